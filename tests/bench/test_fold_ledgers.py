"""``fold_ledgers`` (msgspec straight into the fold's fields) agrees with the dict path on odd lines too."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from ralph.bench.fold import fold_iterations, fold_ledgers
from ralph.ledger import iter_iterations
from ralph.ledger import reader as ledger_reader

STAGES = ("BUILD", "VERIFY", "INVESTIGATE", "DECOMPOSE", "build")


def _line(rng: random.Random, run_id: str, i: int) -> dict[str, object]:
    n = rng.randint
    line: dict[str, object] = {
        "schema": 1, "run_id": run_id, "iteration": i, "stage": rng.choice(STAGES), "model": "m",
        "is_local": rng.random() < 0.3, "cost": rng.choice((0.0, 0.02, 1, 0.1 + rng.random())),
        "tokens": {"input": n(0, 5000), "cached": n(0, 9000), "output": n(0, 900)},
        "duration_s": rng.uniform(1, 120), "outcome": rng.choice(("success", "failure", "skip", "other")),
        "reconcile": {"added": 0, "accepted": rng.choice((0, 0, 1, 2)), "rejected": 0, "issues": 0},
        "ts": 1.7e9 + 60 * i, "api_calls": 2,
    }  # fmt: skip
    if rng.random() < 0.2:
        line["kill_reason"] = rng.choice(("timeout", "context", "loop"))
    if rng.random() < 0.1:
        line["precheck_accepted"] = True
        line["validation_retries"] = rng.randint(0, 3)
    return line


ODD: list[tuple[str, object]] = [
    ("schema", None),  # the earlier ralph's line: upgraded (kill reasons renamed)
    ("schema", 7),  # from the future: skipped with a warning
    ("schema", True),
    ("cost", None),
    ("cost", "3"),
    ("cost", 10**30),
    ("duration_s", math.nan),
    ("ts", 0),
    ("ts", math.inf),
    ("ts", -5.0),
    ("stage", 5),
    ("tokens", None),
    ("tokens", {"input": True, "cached": 1.5}),
    ("tokens", {"input": 10**25}),
    ("reconcile", {}),
    ("reconcile", None),
    ("reconcile", {"accepted": 2.5}),
    ("kill_reason", 5),
    ("kill_reason", "loop_detected"),
    ("kill_reason", ""),
    ("precheck_accepted", 1),
    ("validation_retries", 1.0),
    ("is_local", None),
    ("outcome", 3),
    ("run_id", 17),
    ("run_id", None),
    ("note", "\ud800 caf\u00e9"),
]


def _write(log_dir: Path, seed: int) -> None:
    rng = random.Random(seed)
    log_dir.mkdir(parents=True)
    out: list[bytes] = []
    for i in range(600):
        line = _line(rng, f"run-{rng.randint(0, 5)}", i)
        if rng.random() < 0.35:
            key, value = rng.choice(ODD)
            if key == "schema" and value is None:
                line.pop("schema")
                line["kill_reason"] = rng.choice(("loop_detected", "context_pressure"))
            elif value is None and key in ("run_id", "tokens") and rng.random() < 0.5:
                line.pop(key)
            else:
                line[key] = value
        separators = (", ", ": ") if rng.random() < 0.2 else (",", ":")
        out.append(json.dumps(line, separators=separators).encode("utf-8", "surrogatepass"))
        roll = rng.random()
        if roll < 0.02:
            out.append(b"not json")
        elif roll < 0.04:
            out.append(b"[1, 2]")
        elif roll < 0.05:
            out.append(b"")
        elif roll < 0.06:
            out.append(b'{"schema":1,"run_id":"run-1","stage":"BUILD","tokens":{},"outcome":"caf\xe9"}')
        elif roll < 0.07:
            out.append(b'{"schema":1,"run_id":"run-2","stage":"VERIFY","tokens":{"input":1},"cost":NaN}')
    (log_dir / "iterations.jsonl").write_bytes(b"\n".join(out) + b'\n{"schema":1,"run_id":"torn')


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("block", [64, 1000, 1 << 20])
def test_same_activity_and_warnings_as_the_dict_path(
    tmp_path: Path, seed: int, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_reader, "_BLOCK", block)
    for wanted, prefilter in (({"run-0", "run-1", "run-2", "run-3", "run-4", "run-5"}, False),
                              ({"run-1", "run-4"}, True), ({"run-1", "run-4"}, False)):  # fmt: skip
        one, two = tmp_path / f"a{len(wanted)}{prefilter}", tmp_path / f"b{len(wanted)}{prefilter}"
        _write(one / "logs", seed)
        _write(two / "logs", seed)
        slow_notes: list[str] = []
        fast_notes: list[str] = []
        slow = fold_iterations(
            iter_iterations(one / "logs", wanted if prefilter else None, slow_notes), wanted
        )
        fast = fold_ledgers([two / "logs"], wanted, fast_notes, prefilter=prefilter)
        assert repr(fast) == repr(slow)  # repr: NaN compares unequal to itself
        assert [n.replace(str(two), str(one)) for n in fast_notes] == slow_notes
        assert any("not valid JSON" in n for n in slow_notes) and any("schema 7" in n for n in slow_notes)


def test_the_reader_parses_as_json_loads(tmp_path: Path) -> None:
    lines = [
        b'{"schema":1,"run_id":"r","a":NaN,"b":1e400,"c":-0.0,"d":123456789012345678901234567890}',
        b'{"schema":1,"run_id":"r","s":"\\ud800","t":"caf\xe9","u":"\\u00e9","k":1,"k":2}',
        b'{"schema":1,"run_id":"r","f":0.1,"g":5e-324,"h":1.7976931348623157e308}',
        b"\xef\xbb\xbf{}",
        b"\x00",
        b"",
    ]
    (tmp_path / "iterations.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    warnings: list[str] = []
    got = list(iter_iterations(tmp_path, warnings=warnings))
    expected = [json.loads(raw.decode("utf-8", "replace")) for raw in lines[:3]]
    assert repr(got) == repr(expected)
    assert [w.rsplit(":", 1)[1].strip() for w in warnings] == ["not valid JSON; skipped"] * 2
