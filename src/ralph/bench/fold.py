"""Fold a stream of stage executions into per-run activity, in one pass and bounded memory.

Lines of concurrent runs interleave in one ``iterations.jsonl``; the fold keeps one accumulator per run.
Timelines (tasks accepted over the run's wall time since its first stage when stages carry start times
``ts``, else over summed stage time, as for the earlier ralph's lines) are thinned to ``TIMELINE_POINTS``.

``fold_ledgers`` reads the ledger files itself: each current line is parsed by msgspec straight into the
few fields the fold needs (no dict, no record per line); any line that does not fit those types exactly
(the earlier ralph's, odd values, bad JSON) goes through the ledger reader's dict path and ``_clean``, so
both give the same numbers. For a big file it also leaves a checkpoint in the user's cache folder (see
``fold_ledgers``), so that ``report`` after ``analyze``, or the next ``analyze`` of a growing experiment,
reads only the lines appended since.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import zlib
from array import array
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from ralph.ledger import reader as ledger_reader
from ralph.ledger import upgrade as ledger_upgrade
from ralph.ledger.reader import (
    MAX_WARNINGS,
    add_warning,
    decode_line,
    line_blocks,
    repair_before_read,
    visibly_other,
)
from ralph.ledger.records import SCHEMA_VERSION
from ralph.ledger.upgrade import LedgerFile

__all__ = [
    "CACHE_MIN_BYTES",
    "TIMELINE_POINTS",
    "RunActivity",
    "StageSummary",
    "fold_cache_dir",
    "fold_iterations",
    "fold_ledgers",
]

TIMELINE_POINTS = 256
CACHE_VERSION = 1
"""Checkpoints of another version are not used: bump it when the checkpoint's layout changes. (A change to
the fold's code changes ``_code_version`` too, which is part of the checkpoint.)"""
CACHE_MIN_BYTES = 8 << 20
"""Smaller iterations.jsonl files are folded afresh each time (a fraction of a second)."""
CACHE_FILES = 32
"""Checkpoints kept in the cache folder (the least recently written go first)."""
_NOT_FAILED = frozenset({"success", "skip", ""})


@dataclass(frozen=True)
class StageSummary:
    """Totals of one stage over a run (or summed over several)."""

    stage: str
    count: int = 0
    cost: float = 0.0
    tokens: int = 0
    duration_s: float = 0.0
    ok: int = 0
    failed: int = 0
    killed: int = 0
    auto_accepted: int = 0
    validation_retries: int = 0

    def __add__(self, other: StageSummary) -> StageSummary:
        return StageSummary(
            self.stage,
            self.count + other.count,
            self.cost + other.cost,
            self.tokens + other.tokens,
            self.duration_s + other.duration_s,
            self.ok + other.ok,
            self.failed + other.failed,
            self.killed + other.killed,
            self.auto_accepted + other.auto_accepted,
            self.validation_retries + other.validation_retries,
        )


@dataclass(frozen=True)
class RunActivity:
    """What a run's iteration records add to its run record."""

    run_id: str
    stages: Mapping[str, StageSummary] = field(default_factory=dict)
    cloud_tokens: int = 0
    local_tokens: int = 0
    kill_reasons: Mapping[str, int] = field(default_factory=dict)
    timeline: tuple[tuple[float, int], ...] = ()
    elapsed_s: float = 0.0
    accepted: int = 0


class _StageAcc:
    __slots__ = ("auto", "cost", "count", "duration", "failed", "killed", "ok", "tokens", "vretry")

    def __init__(self) -> None:
        self.count = self.tokens = self.ok = self.failed = self.killed = self.auto = self.vretry = 0
        self.cost = self.duration = 0.0


_Values = tuple[str, int, float, float, str, float, int, str, bool, int, bool]


def _read(line: Mapping[str, Any]) -> _Values:
    """The fields the fold needs, read without conversions (the fast path; raises on an odd line)."""
    tokens = line["tokens"]
    reconcile = line.get("reconcile")
    kill = line.get("kill_reason") or ""
    return (
        line["stage"].upper(),
        tokens.get("input", 0) + tokens.get("cached", 0) + tokens.get("output", 0),
        line.get("cost", 0) + 0.0,
        line.get("duration_s", 0) + 0.0,
        line.get("outcome", ""),
        line.get("ts", 0) + 0.0,
        _whole(reconcile.get("accepted", 0)) if reconcile else 0,
        kill if type(kill) is str else "",
        bool(line.get("precheck_accepted")),
        line.get("validation_retries", 0) + 0,
        bool(line.get("is_local")),
    )


def _whole(value: Any) -> int:
    """An int as it is (a bool as 0 or 1); anything else raises, so that the line is cleaned."""
    if isinstance(value, int):
        return value + 0
    raise TypeError(f"not a whole number: {value!r}")


def _number(value: Any) -> int | float:
    return value if type(value) in (int, float) else 0


def _clean(line: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an odd line with wrong-typed values replaced by zero or empty (the slow path)."""
    tokens = line.get("tokens")
    tokens = tokens if isinstance(tokens, Mapping) else {}
    reconcile = line.get("reconcile")
    accepted = reconcile.get("accepted") if isinstance(reconcile, Mapping) else 0
    return {
        "stage": str(line.get("stage", "")),
        "tokens": {key: int(_number(tokens.get(key))) for key in ("input", "cached", "output")},
        "cost": _number(line.get("cost")),
        "duration_s": _number(line.get("duration_s")),
        "outcome": str(line.get("outcome", "")),
        "ts": _number(line.get("ts")),
        "reconcile": {"accepted": int(_number(accepted))},
        "kill_reason": line.get("kill_reason") if isinstance(line.get("kill_reason"), str) else "",
        "precheck_accepted": line.get("precheck_accepted") is True,
        "validation_retries": int(_number(line.get("validation_retries"))),
        "is_local": line.get("is_local") is True,
    }


class _RunAcc:
    __slots__ = (
        "accepted",
        "by_raw",
        "cloud",
        "elapsed",
        "kills",
        "local",
        "stages",
        "start",
        "times",
        "totals",
    )

    def __init__(self) -> None:
        self.stages: dict[str, _StageAcc] = {}
        self.by_raw: dict[str, _StageAcc] = {}
        """The same accumulators by the stage name as written (before ``upper``), for the fast path."""
        self.kills: dict[str, int] = {}
        self.cloud = self.local = self.accepted = 0
        self.elapsed = 0.0
        self.start: float | None = None
        self.times = array("d")
        self.totals = array("q")

    def add(self, line: Mapping[str, Any]) -> None:
        """Fold one iteration line (a dict as the ledger reader yields it); odd values count as zero."""
        try:
            values = _read(line)
        except (KeyError, TypeError, AttributeError, ValueError):
            values = _read(_clean(line))
        self.put(*values)

    def put(
        self,
        stage: str,
        used: int,
        cost: float,
        duration: float,
        outcome: str,
        ts: float,
        accepted: int,
        kill: str,
        auto: bool,
        vretry: int,
        local: bool,
    ) -> None:
        """Fold one stage execution's values (see ``_read``)."""
        acc = self.stages.get(stage) or self.stages.setdefault(stage, _StageAcc())
        acc.count += 1
        acc.cost += cost
        acc.tokens += used
        acc.duration += duration
        if outcome == "success":
            acc.ok += 1
        elif outcome not in _NOT_FAILED:
            acc.failed += 1
        if auto:
            acc.auto += 1
        if vretry:
            acc.vretry += vretry
        if kill:
            self.kill(acc, kill)
        if local:
            self.local += used
        else:
            self.cloud += used
        if ts > 0:
            if self.start is None:
                self.start = ts
            end = ts + duration - self.start
            if end > self.elapsed:
                self.elapsed = end
        else:
            self.elapsed += duration
        if accepted:
            self.accepted += accepted
            self.times.append(self.elapsed)
            self.totals.append(self.accepted)

    def kill(self, acc: _StageAcc, reason: str) -> None:
        acc.killed += 1
        self.kills[reason] = self.kills.get(reason, 0) + 1

    def freeze(self, run_id: str) -> RunActivity:
        stages = {
            name: StageSummary(
                name, a.count, a.cost, a.tokens, a.duration, a.ok, a.failed, a.killed, a.auto, a.vretry
            )
            for name, a in self.stages.items()
        }
        return RunActivity(
            run_id=run_id,
            stages=stages,
            cloud_tokens=self.cloud,
            local_tokens=self.local,
            kill_reasons=dict(self.kills),
            timeline=_thin(self.times, self.totals),
            elapsed_s=self.elapsed,
            accepted=self.accepted,
        )


def _thin(times: array[float], totals: array[int]) -> tuple[tuple[float, int], ...]:
    n = len(times)
    if n <= TIMELINE_POINTS:
        return tuple(zip(times, totals, strict=True))
    step = (n - 1) / (TIMELINE_POINTS - 1)
    picks = sorted({round(i * step) for i in range(TIMELINE_POINTS)})
    return tuple((times[i], totals[i]) for i in picks)


def fold_iterations(
    lines: Iterable[Mapping[str, Any]], run_ids: Collection[str] | None = None
) -> dict[str, RunActivity]:
    """Per-run activity of the given runs (all runs when ``run_ids`` is None), in file order."""
    runs: dict[str, _RunAcc] = {}
    for line in lines:
        run_id = line.get("run_id")
        acc = runs.get(run_id) if isinstance(run_id, str) else None
        if acc is None:
            if not isinstance(run_id, str) or (run_ids is not None and run_id not in run_ids):
                continue
            acc = runs[run_id] = _RunAcc()
        acc.add(line)
    return {run_id: acc.freeze(run_id) for run_id, acc in runs.items()}


class _Tokens(msgspec.Struct, gc=False):
    input: int = 0
    cached: int = 0
    output: int = 0


class _Reconcile(msgspec.Struct, gc=False):
    accepted: int = 0


class _Line(msgspec.Struct, gc=False):
    """The fields of a current iteration line that the fold reads, with the defaults ``_read`` uses; a line
    whose values have other types fails to decode and takes the dict path."""

    stage: str
    tokens: _Tokens
    schema: int = 0
    run_id: str | None = None
    cost: float = 0.0
    duration_s: float = 0.0
    outcome: str = ""
    ts: float = 0.0
    reconcile: _Reconcile | None = None
    kill_reason: str | None = None
    precheck_accepted: bool = False
    validation_retries: int = 0
    is_local: bool = False


_DECODE_LINE = msgspec.json.Decoder(_Line).decode


def fold_ledgers(
    log_dirs: Sequence[Path],
    run_ids: Collection[str],
    warnings: list[str] | None = None,
    *,
    prefilter: bool = False,
    cache: Path | None = None,
) -> dict[str, RunActivity]:
    """Per-run activity of ``run_ids`` from the iterations.jsonl of each log dir, in file order: the same as
    ``fold_iterations(iter_iterations(...), run_ids)``, several times faster. ``prefilter`` skips lines that
    name another run by a text match before parsing (worth it when most lines are other runs').

    With a ``cache`` folder (and no prefilter), a big file's fold is checkpointed there: the next fold of the
    same file starts from the checkpoint when the file still begins with the bytes it was made from (same
    device and inode, Adler-32 of that prefix), replays the warnings those lines gave and reads only what was
    appended since."""
    wanted = run_ids if isinstance(run_ids, set | frozenset) else set(run_ids)
    out: dict[str, RunActivity] = {}
    for folder in log_dirs:
        if cache is not None and not prefilter:
            runs = _fold_cached(folder, cache, wanted, warnings)
        else:
            runs = _fold_file(folder, wanted, warnings, prefilter)
        for run_id, acc in runs.items():
            if run_id in wanted and run_id not in out:  # (a run in two log dirs: the first one's lines)
                out[run_id] = acc.freeze(run_id)
    return out


def _fold_file(
    folder: Path,
    wanted: Collection[str] | None,
    warnings: list[str] | None,
    prefilter: bool = False,
    resume: _Resume | None = None,
) -> dict[str, _RunAcc]:
    """Accumulators of the runs in ``wanted`` (every run when None) over one iterations.jsonl."""
    runs: dict[str | None, _RunAcc] = resume.runs if resume is not None else {}  # type: ignore[assignment]
    kind = LedgerFile.ITERATIONS
    decode = _DECODE_LINE
    notes = resume.notes if resume is not None else None
    say: list[str] | None = [] if notes is not None else warnings
    blocks = (
        line_blocks(folder, kind, warnings, start=resume.offset, first=resume.lines, digest=resume.digest)
        if resume is not None
        else line_blocks(folder, kind, warnings)
    )
    last_id: str | None = None
    run: _RunAcc | None = None
    for path, first, lines, end in blocks:
        if end is None and resume is not None:
            resume.checkpoint(runs)  # before the unterminated last line, which may still be completed
        for number, raw in enumerate(lines, first):
            if prefilter and wanted is not None and visibly_other(raw, wanted):
                continue
            try:
                line = decode(raw)
            except (msgspec.DecodeError, ValueError):
                line = None
            if line is None or line.schema != SCHEMA_VERSION:
                data = decode_line(kind, path, number, raw, say)
                if notes is not None and say:
                    for note in say:
                        notes.append(note)
                        add_warning(warnings, note)
                    say.clear()
                run_id = data.get("run_id") if data is not None else None
                if isinstance(run_id, str) and (wanted is None or run_id in wanted):
                    (runs.get(run_id) or runs.setdefault(run_id, _RunAcc())).add(data)  # type: ignore[arg-type]
                continue
            if line.run_id != last_id or run is None:  # a run's lines mostly come in a row
                run = runs.get(line.run_id)
                if run is None:
                    if line.run_id is None or (wanted is not None and line.run_id not in wanted):
                        continue
                    run = runs[line.run_id] = _RunAcc()
                last_id = line.run_id
            # _RunAcc.put, inlined (a million calls cost a second here); keep the two in step
            acc = run.by_raw.get(line.stage)
            if acc is None:
                stage = line.stage.upper()
                acc = run.by_raw[line.stage] = run.stages.get(stage) or run.stages.setdefault(
                    stage, _StageAcc()
                )
            tokens = line.tokens
            used = tokens.input + tokens.cached + tokens.output
            duration = line.duration_s
            acc.count += 1
            acc.cost += line.cost
            acc.tokens += used
            acc.duration += duration
            if line.outcome == "success":
                acc.ok += 1
            elif line.outcome not in _NOT_FAILED:
                acc.failed += 1
            if line.precheck_accepted:
                acc.auto += 1
            if line.validation_retries:
                acc.vretry += line.validation_retries
            if line.kill_reason:
                run.kill(acc, line.kill_reason)
            if line.is_local:
                run.local += used
            else:
                run.cloud += used
            ts = line.ts
            if ts > 0:
                if run.start is None:
                    run.start = ts
                end_s = ts + duration - run.start
                if end_s > run.elapsed:
                    run.elapsed = end_s
            else:
                run.elapsed += duration
            if line.reconcile is not None and line.reconcile.accepted:
                run.accepted += line.reconcile.accepted
                run.times.append(run.elapsed)
                run.totals.append(run.accepted)
        if end is not None and resume is not None:
            resume.offset, resume.lines = end, first + len(lines)
    if resume is not None and not resume.saved:
        resume.checkpoint(runs)
    return runs  # type: ignore[return-value]


def fold_cache_dir() -> Path | None:
    """Where fold checkpoints go: ``$XDG_CACHE_HOME/ralph/fold``, else ``~/.cache/ralph/fold``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ralph" / "fold" if os.path.isabs(base) else None


class _StageState(msgspec.Struct, array_like=True, gc=False):
    name: str
    count: int
    cost: float
    tokens: int | float
    duration: float
    ok: int
    failed: int
    killed: int
    auto: int
    vretry: int | float


class _RunState(msgspec.Struct, array_like=True):
    run_id: str
    stages: list[_StageState]
    kills: dict[str, int]
    cloud: int | float
    local: int | float
    accepted: int
    elapsed: float
    start: float | None
    times: bytes
    totals: bytes


class _Checkpoint(msgspec.Struct):
    version: int
    code: str
    path: str
    device: int
    inode: int
    offset: int
    lines: int
    adler: int
    notes: list[str]
    runs: list[_RunState]


def _state(run_id: str, acc: _RunAcc) -> _RunState:
    stages = [
        _StageState(name, a.count, a.cost, a.tokens, a.duration, a.ok, a.failed, a.killed, a.auto, a.vretry)
        for name, a in acc.stages.items()
    ]
    return _RunState(
        run_id, stages, dict(acc.kills), acc.cloud, acc.local, acc.accepted, acc.elapsed, acc.start,
        acc.times.tobytes(), acc.totals.tobytes(),
    )  # fmt: skip


def _thaw(state: _RunState) -> _RunAcc:
    acc = _RunAcc()
    for s in state.stages:
        stage = acc.stages[s.name] = _StageAcc()
        stage.count, stage.cost, stage.duration = s.count, s.cost, s.duration
        stage.ok, stage.failed, stage.killed, stage.auto = s.ok, s.failed, s.killed, s.auto
        # token counts and retries are floats only where odd lines had floats (the dict path adds them up)
        stage.tokens, stage.vretry = s.tokens, s.vretry  # type: ignore[assignment]
    acc.kills = dict(state.kills)
    acc.cloud, acc.local, acc.accepted = state.cloud, state.local, state.accepted  # type: ignore[assignment]
    acc.elapsed, acc.start = state.elapsed, state.start
    acc.times.frombytes(state.times)
    acc.totals.frombytes(state.totals)
    return acc


class _Resume:
    """A checkpointed fold of one file: where it stands and where the checkpoint goes."""

    def __init__(self, target: Path, label: str, device: int, inode: int) -> None:
        self.target, self.label, self.device, self.inode = target, label, device, inode
        self.runs: dict[str, _RunAcc] = {}
        self.notes: list[str] = []
        self.offset, self.lines, self.adler = 0, 1, zlib.adler32(b"")
        self.saved_at: int | None = None
        self.saved = False

    def digest(self, data: memoryview) -> None:
        self.adler = zlib.adler32(data, self.adler)

    def checkpoint(self, runs: Mapping[str | None, _RunAcc]) -> None:
        """Save the fold up to ``offset`` (once; not when nothing was added; errors only skip it)."""
        self.saved = True
        if self.offset == self.saved_at:
            return
        point = _Checkpoint(
            CACHE_VERSION, _code_version(), self.label, self.device, self.inode, self.offset, self.lines,
            self.adler, self.notes[: MAX_WARNINGS + 1],
            [_state(k, acc) for k, acc in runs.items() if k is not None],
        )  # fmt: skip
        try:
            data = msgspec.msgpack.encode(point)
            self.target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.target.with_name(f"{self.target.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(self.target)
            _prune(self.target.parent)
        except (OSError, msgspec.EncodeError, OverflowError):
            return

    def load(self, size: int) -> None:
        """Take up the checkpoint when the file still starts with the bytes it was made from."""
        try:
            point = msgspec.msgpack.decode(self.target.read_bytes(), type=_Checkpoint)
        except (OSError, msgspec.DecodeError):
            return
        if (point.version, point.code, point.path, point.device, point.inode) != (
            CACHE_VERSION, _code_version(), self.label, self.device, self.inode,
        ) or not 0 < point.offset <= size:  # fmt: skip
            return
        if _adler(Path(self.label), point.offset) != point.adler:
            return
        self.runs = {state.run_id: _thaw(state) for state in point.runs}
        self.notes = list(point.notes)
        self.offset, self.lines, self.adler = point.offset, point.lines, point.adler
        self.saved_at = point.offset


@functools.cache
def _code_version() -> str:
    """A digest of the code a checkpoint depends on (this module, the ledger reader and its upgrades)."""
    digest = hashlib.sha256(msgspec.__version__.encode())
    for module in (__file__, ledger_reader.__file__, ledger_upgrade.__file__):
        try:
            digest.update(Path(module or "").read_bytes())
        except OSError:
            digest.update(b"?")
    return digest.hexdigest()[:24]


def _adler(path: Path, size: int) -> int | None:
    value = zlib.adler32(b"")
    try:
        with path.open("rb") as handle:
            while size > 0 and (chunk := handle.read(min(size, 1 << 22))):
                value = zlib.adler32(chunk, value)
                size -= len(chunk)
    except OSError:
        return None
    return value if size == 0 else None


def _prune(folder: Path) -> None:
    found = sorted(folder.glob("*.fold"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in found[CACHE_FILES:]:
        old.unlink(missing_ok=True)


def _fold_cached(
    folder: Path, cache: Path, wanted: Collection[str], warnings: list[str] | None
) -> dict[str, _RunAcc]:
    path = Path(folder) / LedgerFile.ITERATIONS.filename
    try:
        info = path.stat()
    except OSError:
        return _fold_file(folder, wanted, warnings)
    if not stat.S_ISREG(info.st_mode) or info.st_size < CACHE_MIN_BYTES:
        return _fold_file(folder, wanted, warnings)
    repair_before_read(path, warnings)  # first, as a plain read reports it first
    info = path.stat()
    label = str(path)
    target = cache / f"{hashlib.sha256(label.encode()).hexdigest()[:32]}.fold"
    resume = _Resume(target, label, info.st_dev, info.st_ino)
    resume.load(info.st_size)
    for note in resume.notes:
        add_warning(warnings, note)
    return _fold_file(folder, None, warnings, resume=resume)
