"""`ralph bench` through the real Typer app: output, exit codes, one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ralph.cli.main import app
from ralph.cli.runner import run_app

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "earlier-ledger" / "001-profile-showdown"


def ralph(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run_app(app, list(argv), prog_name="ralph")
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def earlier(tmp_path: Path) -> Path:
    folder = tmp_path / FIXTURE.name
    shutil.copytree(FIXTURE, folder)
    return folder


def test_analyze_prints_every_section(capsys: pytest.CaptureFixture[str], earlier: Path) -> None:
    code, out, err = ralph(capsys, "bench", "analyze", str(earlier))
    assert code == 0, err
    for title in ("1. Run comparison", "2. Per-stage breakdown", "3. Quota impact", "4. Efficiency ranking",
                  "5. Correctness matrix", "6. Recommendations"):  # fmt: skip
        assert title in out
    assert "progress_stall" in out and "FAIL(124)" in out


def test_analyze_json_and_profile_filter(capsys: pytest.CaptureFixture[str], earlier: Path) -> None:
    code, out, _ = ralph(capsys, "bench", "analyze", str(earlier), "--json", "--profile", "opus")
    assert code == 0
    data = json.loads(out)
    assert [r["cell"] for r in data["runs"]] == ["opus"] and [a["name"] for a in data["arms"]] == ["opus"]
    code, _, err = ralph(capsys, "bench", "analyze", str(earlier), "--profile", "nope")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "unknown profile" in err


def test_report_prints_its_path(capsys: pytest.CaptureFixture[str], earlier: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "elsewhere" / "r.html"
    code, out, _ = ralph(capsys, "bench", "report", str(earlier), "-o", str(out_file))
    assert code == 0 and out.strip() == str(out_file) and out_file.is_file()
    assert '<a href="../001-profile-showdown/results/hybrid/">' in out_file.read_text()


def test_init_then_errors_are_one_line_with_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = ralph(capsys, "bench", "init", "004-new")
    assert code == 0 and out.strip() == str(tmp_path / "004-new" / "experiment.toml")
    code, _, err = ralph(capsys, "bench", "setup", "004-new")  # the template's target does not exist
    assert code == 2 and "does not exist" in err and err.count("\n") == 1
    code, _, err = ralph(capsys, "bench", "run", "004-new")
    assert code == 2 and "--all" in err
    code, _, err = ralph(capsys, "bench", "analyze", str(tmp_path / "missing"))
    assert code == 2 and "no such experiment" in err
