"""Reading the ledger: current lines and the earlier ralph's, upgraded; streaming for big logs.

The ``iter_*`` functions yield plain dicts (upgraded, optional keys may be absent) without building records,
and skip other runs' lines with a byte-level ``run_id`` match before parsing them. Files are read in binary
blocks and lines parsed by msgspec, with ``json.loads`` deciding whatever msgspec refuses; a reader that
needs only a few fields can take ``line_blocks`` and parse them itself, handing odd lines to
``decode_line``. A torn last line is
repaired under the writers' lock when the file is writable, else skipped; either way it is reported in
``warnings`` and never fatal, like any other unreadable line.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, Final, TypeVar

import msgspec

from ralph.ledger.records import SCHEMA_VERSION, CallRecord, IterationRecord, RunPhase, RunRecord
from ralph.ledger.upgrade import LedgerFile, upgrade_line
from ralph.ledger.writer import repair_tail

__all__ = [
    "MAX_WARNINGS",
    "add_warning",
    "decode_line",
    "final_run_lines",
    "iter_calls",
    "iter_iterations",
    "iter_records",
    "iter_runs",
    "line_blocks",
    "read_calls",
    "read_iterations",
    "read_runs",
    "repair_before_read",
    "visibly_other",
]

_RUN_ID_BYTES: Final = re.compile(rb'"run_id"\s*:\s*"([^"\\]*)"')
_START_BYTES: Final = re.compile(rb'"record"\s*:\s*"start"')
_BLOCK: Final = 1 << 20
_DECODE: Final = msgspec.json.Decoder().decode
_MAX_WARNINGS: Final = 20
_R = TypeVar("_R", RunRecord, IterationRecord, CallRecord)


def _ends_torn(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            return False
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) != b"\n"


def repair_before_read(path: Path, warnings: list[str] | None) -> None:
    """Repair a torn last line of ``path`` when it can be written (reported in ``warnings``)."""
    if not _ends_torn(path):
        return
    try:
        fixed = repair_tail(path)
    except OSError:
        fixed = False
    if fixed and warnings is not None:
        warnings.append(f"{path}: repaired a torn last line")


def _warn(warnings: list[str] | None, message: str) -> None:
    if warnings is None or len(warnings) > _MAX_WARNINGS:
        return
    warnings.append(message if len(warnings) < _MAX_WARNINGS else "... more unreadable lines")


add_warning = _warn
"""Report an unreadable line in ``warnings`` as the readers do (at most ``MAX_WARNINGS``, then one note)."""
MAX_WARNINGS: Final = _MAX_WARNINGS


def _loads(raw: bytes | str) -> Any:
    """``json.loads`` semantics, decoded by msgspec (4-5x faster) when it can: what msgspec refuses (NaN,
    numbers out of float range, lone surrogates, invalid UTF-8) goes to ``json.loads``, which decides."""
    try:
        return _DECODE(raw)
    except (msgspec.DecodeError, ValueError):
        # as a text reader: invalid UTF-8 reads as U+FFFD, and bytes are never taken for UTF-16/32
        return json.loads(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw)


def line_blocks(
    log_dir: Path,
    kind: LedgerFile,
    warnings: list[str] | None = None,
    *,
    start: int = 0,
    first: int = 1,
    digest: Callable[[memoryview], object] | None = None,
) -> Iterator[tuple[Path, int, list[bytes], int | None]]:
    """Raw lines of one ledger file (without their newline), read in large binary blocks:
    ``(path, number of the block's first line, lines, offset just after the block's last newline)``. A torn
    last line is repaired first when possible; a last line without newline is still yielded, as a text
    reader would, in a block of its own with offset None. ``start`` (a line start) and ``first`` (its
    number) resume a read; ``digest`` sees every byte of the complete lines, in order."""
    path = Path(log_dir) / kind.filename
    if not path.is_file():
        return
    repair_before_read(path, warnings)
    number, offset = first, start
    rest: list[bytes] = []  # the unfinished line, in pieces (joined once, however long it gets)
    with path.open("rb") as handle:
        handle.seek(start)
        while chunk := handle.read(_BLOCK):
            cut = chunk.rfind(b"\n")
            if cut < 0:
                rest.append(chunk)
                continue
            lines = b"".join((*rest, chunk[:cut])).split(b"\n") if rest else chunk[:cut].split(b"\n")
            if digest is not None:
                for piece in rest:
                    digest(memoryview(piece))
                digest(memoryview(chunk)[: cut + 1])
            offset += sum(map(len, rest)) + cut + 1
            rest = [chunk[cut + 1 :]] if cut + 1 < len(chunk) else []
            yield path, number, lines, offset
            number += len(lines)
    if rest:
        yield path, number, [b"".join(rest)], None


def visibly_other(raw: bytes, wanted: Collection[str]) -> bool:
    """True when the line names a ``run_id`` outside ``wanted`` (a text match, before any parsing)."""
    match = _RUN_ID_BYTES.search(raw)
    return match is not None and match.group(1).decode("utf-8", "replace") not in wanted


def decode_line(
    kind: LedgerFile, path: Path, number: int, raw: bytes, warnings: list[str] | None
) -> dict[str, Any] | None:
    """One raw line as an upgraded dict, or None (reported in ``warnings``) when it cannot be read."""
    data: dict[str, Any] | None = _decode(kind, partial(_label, path, number), raw, warnings)
    return data


def _decode(kind: LedgerFile, where: Callable[[], str], raw: bytes | str, warnings: list[str] | None) -> Any:
    """One line as an upgraded dict, or None (reported) when it cannot be read."""
    try:
        data = _loads(raw)
    except ValueError:
        if (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw).strip():
            _warn(warnings, f"{where()}: not valid JSON; skipped")
        return None
    if type(data) is dict and data.get("schema") == SCHEMA_VERSION:
        return data
    if not isinstance(data, dict):
        _warn(warnings, f"{where()}: not a JSON object; skipped")
        return None
    try:
        return upgrade_line(kind, data)
    except ValueError as err:
        _warn(warnings, f"{where()}: {err}; skipped")
        return None


def _open_lines(
    log_dir: Path, kind: LedgerFile, wanted: set[str] | None, warnings: list[str] | None
) -> Iterator[tuple[Callable[[], str], bytes]]:
    """Raw lines of one ledger file with a lazy ``path:line`` label for warnings; lines whose ``run_id`` is
    visibly not wanted are dropped before parsing."""
    for path, first, lines, _ in line_blocks(log_dir, kind, warnings):
        for number, raw in enumerate(lines, first):
            if wanted is None or not visibly_other(raw, wanted):
                yield partial(_label, path, number), raw


def _label(path: Path, number: int) -> str:
    return f"{path}:{number}"


def iter_records(
    log_dir: Path,
    kind: LedgerFile,
    run_ids: Collection[str] | None = None,
    warnings: list[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Upgraded dicts of one ledger file, optionally only those of ``run_ids``; bad lines are skipped."""
    wanted = None if run_ids is None else set(run_ids)
    for where, raw in _open_lines(log_dir, kind, wanted, warnings):
        data = _decode(kind, where, raw, warnings)
        if data is not None and (wanted is None or data.get("run_id") in wanted):
            yield data


def iter_runs(log_dir: Path, warnings: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Every runs.jsonl line (start and end records), upgraded."""
    return iter_records(log_dir, LedgerFile.RUNS, None, warnings)


def iter_iterations(
    log_dir: Path, run_ids: Collection[str] | None = None, warnings: list[str] | None = None
) -> Iterator[dict[str, Any]]:
    """iterations.jsonl lines as dicts (the fast path for analyze)."""
    return iter_records(log_dir, LedgerFile.ITERATIONS, run_ids, warnings)


def iter_calls(
    log_dir: Path, run_ids: Collection[str] | None = None, warnings: list[str] | None = None
) -> Iterator[dict[str, Any]]:
    """calls.jsonl lines as dicts."""
    return iter_records(log_dir, LedgerFile.CALLS, run_ids, warnings)


def final_run_lines(log_dir: Path, warnings: list[str] | None = None) -> list[dict[str, Any]]:
    """The final line per run_id (an end record beats a start record), in order of first appearance.

    Only the chosen line of each run is parsed; the others are told apart by a text match."""
    latest: dict[str, tuple[bool, Callable[[], str], bytes]] = {}
    for where, raw in _open_lines(log_dir, LedgerFile.RUNS, None, warnings):
        match = _RUN_ID_BYTES.search(raw)
        if match is None:
            data = _decode(LedgerFile.RUNS, where, raw, warnings)
            if data is None or not isinstance(data.get("run_id"), str):
                continue
            run_id, is_end = data["run_id"], data.get("record") != RunPhase.START
        else:
            run_id, is_end = match.group(1).decode("utf-8", "replace"), _START_BYTES.search(raw) is None
        previous = latest.get(run_id)
        if previous is None or is_end or not previous[0]:
            latest[run_id] = (is_end, where, raw)
    finals = (_decode(LedgerFile.RUNS, where, raw, warnings) for _, where, raw in latest.values())
    return [data for data in finals if data is not None]


def _records(kind: type[_R], lines: Iterable[dict[str, Any]], warnings: list[str] | None) -> list[_R]:
    out: list[_R] = []
    for data in lines:
        try:
            out.append(kind.from_json(data))
        except (TypeError, ValueError) as err:
            _warn(warnings, f"{kind.__name__} for run {data.get('run_id')!r} is incomplete ({err}); skipped")
    return out


def read_runs(log_dir: Path, warnings: list[str] | None = None) -> list[RunRecord]:
    """Final record per run; a run with only its start record comes back with ``exit_reason`` None."""
    return _records(RunRecord, final_run_lines(log_dir, warnings), warnings)


def read_iterations(
    log_dir: Path, run_ids: Collection[str] | None = None, warnings: list[str] | None = None
) -> list[IterationRecord]:
    """Iteration records (use ``iter_iterations`` for large logs)."""
    return _records(IterationRecord, iter_iterations(log_dir, run_ids, warnings), warnings)


def read_calls(
    log_dir: Path, run_ids: Collection[str] | None = None, warnings: list[str] | None = None
) -> list[CallRecord]:
    """Call records (use ``iter_calls`` for large logs)."""
    return _records(CallRecord, iter_calls(log_dir, run_ids, warnings), warnings)
