"""``analysis_json`` writes byte for byte what ``json.dumps(to_plain(...))`` writes, only faster."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest

from ralph.bench.analysis import Analysis, ArmInfo, CellInput, Pick
from ralph.bench.analyze import analyze
from ralph.bench.facts import RunFacts
from ralph.bench.gather import analyze_experiment
from ralph.bench.jsonout import analysis_json, to_plain
from ralph.bench.loading import load_experiment

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "earlier-ledger" / "001-profile-showdown"


def _replicated() -> Analysis:
    arms = (ArmInfo("a", "p", changes=(("k", "caf\u00e9 \u2603"),)), ArmInfo("b", None, description='"q"'))
    cells = [
        CellInput(
            f"{arm.name}-r{k}", arm.name, k,
            (RunFacts(run_id=f"{arm.name}{k}", cost=k * 1.1, duration_s=1e17 if k == 2 else 3.0,
                      tasks_total=4, tasks_completed=k, exit_reason="complete" if k > 1 else None,
                      api_remote=k - 1, kills={"loop": 1}),),
        )
        for arm in arms
        for k in (1, 2, 3)
    ]  # fmt: skip
    return analyze("x", arms, cells, seed=7, warnings=("w\u00e9", ""))


@pytest.fixture(scope="module")
def analyses(tmp_path_factory: pytest.TempPathFactory) -> list[Analysis]:
    folder = tmp_path_factory.mktemp("exp") / FIXTURE.name
    shutil.copytree(FIXTURE, folder)
    return [analyze_experiment(load_experiment(folder)), _replicated(), analyze("empty", (), ())]


@pytest.mark.parametrize("indent", [2, None, 0, 4])
def test_same_text_as_json_dumps(analyses: list[Analysis], indent: int | None) -> None:
    for analysis in analyses:
        expected = json.dumps(to_plain(analysis), indent=indent, allow_nan=False)
        assert analysis_json(analysis, indent) == expected


def test_unusual_values_take_the_json_dumps_way() -> None:
    base = _replicated()
    odd = replace(
        base,
        recommendations=replace(
            base.recommendations,
            picks=(Pick("t", "a", math.nan, "d"),),
            guide=MappingProxyType({"x": (1, 2.5)}),  # type: ignore[arg-type]
        ),
    )
    text = analysis_json(odd)
    assert text == json.dumps(to_plain(odd), indent=2, allow_nan=False)
    assert json.loads(text)["recommendations"]["guide"] == {"x": [1, 2.5]}
