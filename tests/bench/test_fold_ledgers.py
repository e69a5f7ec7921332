"""``fold_ledgers`` (msgspec straight into the fold's fields) agrees with the dict path on odd lines too."""

from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path

import pytest

from ralph.bench import fold
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


def _write(log_dir: Path, seed: int, huge: bool = True) -> None:
    rng = random.Random(seed)
    odd = ODD if huge else [(k, v) for k, v in ODD if not (isinstance(v, dict) and v.get("input") == 10**25)]
    log_dir.mkdir(parents=True)
    out: list[bytes] = []
    for i in range(600):
        line = _line(rng, f"run-{rng.randint(0, 5)}", i)
        if rng.random() < 0.35:
            key, value = rng.choice(odd)
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


def _fold_both(log_dir: Path, cache: Path, wanted: set[str]) -> tuple[str, list[str], str, list[str]]:
    """A plain fold of a copy of the ledger (a read may repair it) and a checkpointed fold of the ledger."""
    copy = log_dir.parent / "plain-copy"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(log_dir, copy)
    plain_notes: list[str] = []
    cached_notes: list[str] = []
    plain = fold_ledgers([copy], wanted, plain_notes)
    cached = fold_ledgers([log_dir], wanted, cached_notes, cache=cache)
    return repr(plain), [n.replace(str(copy), str(log_dir)) for n in plain_notes], repr(cached), cached_notes


def test_checkpoints_give_the_same_activity_and_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fold, "CACHE_MIN_BYTES", 0)
    monkeypatch.setattr(ledger_reader, "_BLOCK", 4096)
    cache = tmp_path / "cache"
    logs = tmp_path / "exp" / "logs"
    _write(logs, 4, huge=False)  # (token counts past 64 bits cannot be checkpointed: folded afresh)
    ledger = logs / "iterations.jsonl"
    wanted = {f"run-{i}" for i in range(6)}
    checks = []

    plain, plain_notes, cached, cached_notes = _fold_both(logs, cache, wanted)  # cold: checkpoint written
    checks.append((plain, plain_notes) == (cached, cached_notes))
    (point,) = cache.glob("*.fold")
    written = point.stat().st_mtime_ns
    warm = _fold_both(logs, cache, wanted)  # warm: from the checkpoint, nothing re-read, nothing re-written
    checks.append((warm[0], warm[1]) == (warm[2], warm[3]) and warm[2] == cached)
    checks.append(point.stat().st_mtime_ns == written)
    with monkeypatch.context() as patch:  # other fold code: the checkpoint is not used, but replaced
        patch.setattr(fold, "_code_version", lambda: "other")
        again = _fold_both(logs, cache, wanted)
        checks.append((again[0], again[1]) == (again[2], again[3]) and point.stat().st_mtime_ns != written)
    checks.append(_fold_both(logs, cache, wanted)[2] == cached)

    more = tmp_path / "more"
    _write(more / "logs", 5, huge=False)
    with ledger.open("ab") as out:  # appended lines: the warm fold reads only them
        out.write((more / "logs" / "iterations.jsonl").read_bytes() + b"\n{not json\n" * 30)
    plain, plain_notes, cached, cached_notes = _fold_both(logs, cache, wanted)
    checks.append((plain, plain_notes) == (cached, cached_notes))
    one = _fold_both(logs, cache, {"run-2"})  # a subset of the runs, from the same checkpoint
    checks.append((one[0], one[1]) == (one[2], one[3]))

    with ledger.open("ab") as out:  # a torn last line: repaired (cut) and reported first, as by a plain read
        out.write(b'{"schema":1,"run_id":"run-1","stage":"BU')
    plain, plain_notes, cached, cached_notes = _fold_both(logs, cache, wanted)
    checks.append((plain, plain_notes) == (cached, cached_notes))
    checks.append("repaired a torn last line" in cached_notes[0] and len(cached_notes) == 21)

    data = bytearray(ledger.read_bytes())  # same size, one byte changed in the checkpointed part: not used
    data[10] = ord("X") if data[10] != ord("X") else ord("Y")
    ledger.write_bytes(bytes(data))
    plain, plain_notes, cached, cached_notes = _fold_both(logs, cache, wanted)
    checks.append((plain, plain_notes) == (cached, cached_notes))

    point.write_bytes(b"garbage")  # an unreadable checkpoint is ignored
    plain, plain_notes, cached, cached_notes = _fold_both(logs, cache, wanted)
    checks.append((plain, plain_notes) == (cached, cached_notes))
    assert all(checks), checks


def test_no_checkpoint_for_small_files_or_an_unwritable_cache(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    _write(logs, 6)
    notes: list[str] = []
    wanted = {f"run-{i}" for i in range(6)}
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert repr(fold_ledgers([logs], wanted, [], cache=tmp_path / "c")) == repr(
        fold_ledgers([logs], wanted, notes)
    )
    assert not (tmp_path / "c").exists()  # below CACHE_MIN_BYTES
    assert fold.CACHE_MIN_BYTES >= 1 << 20
    assert repr(fold_ledgers([logs], wanted, [], cache=blocked / "c")) == repr(fold_ledgers([logs], wanted))


def test_values_a_checkpoint_cannot_hold_are_folded_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fold, "CACHE_MIN_BYTES", 0)
    logs = tmp_path / "logs"
    logs.mkdir()
    line = {"schema": 1, "run_id": "r", "stage": "BUILD", "tokens": {"input": 10**25}, "cost": 1.5}
    (logs / "iterations.jsonl").write_text(json.dumps(line) + "\n")
    for _ in range(2):
        assert fold_ledgers([logs], {"r"}, cache=tmp_path / "c")["r"].cloud_tokens == 10**25
    assert not list((tmp_path / "c").glob("*.fold"))
