"""The earlier bash-style ``experiment.conf`` (``KEY=VALUE``) read as-is, with the earlier defaults."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from ralph.bench.arms import ArmTables, build_arms
from ralph.bench.experiment import Experiment, Gate, Limits, safe_name
from ralph.errors import UsageError

__all__ = ["CONF_KEYS", "load_conf", "parse_conf"]

CONF_KEYS = (
    "TARGET_REPO", "BASE_REF", "SPEC", "PROFILES", "MAX_ITERATIONS", "MAX_WALL_TIME", "MAX_FAILURES",
    "WORKTREE_BASE", "RALPH_LOG_DIR", "RESULTS_DIR", "BUILD_CMD", "TEST_CMD", "TEST_TIMEOUT", "GATE_CHECKS",
)  # fmt: skip
_REQUIRED = ("TARGET_REPO", "BASE_REF", "SPEC", "PROFILES")
_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def parse_conf(text: str, home: str) -> dict[str, str]:
    """``KEY=VALUE`` lines (quotes and trailing comments as bash reads them; ``$HOME``/``~`` expanded)."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        match = _LINE.match(line)
        if not line or line.startswith("#") or not match:
            continue
        key, rest = match.groups()
        try:
            words = shlex.split(rest, comments=True)
        except ValueError:
            words = [rest]
        value = " ".join(words)
        value = value.replace("${HOME}", home).replace("$HOME", home)
        values[key] = home + value[1:] if value == "~" or value.startswith("~/") else value
    return values


def _int(values: dict[str, str], key: str, default: int, file: Path) -> int:
    text = values.get(key, "")
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{file}: {key}={text!r}: expected an integer") from None


def _gates(values: dict[str, str]) -> tuple[Gate, ...]:
    text = values.get("GATE_CHECKS", "").strip()
    if not text:
        return ()
    label, sep, command = text.partition("|")
    if not sep or not command.strip():
        return (Gate("gate", text),)
    return (Gate(safe_name(label.strip() or "gate", "gate label"), command.strip()),)


def _path(values: dict[str, str], key: str, default: Path, folder: Path) -> Path:
    text = values.get(key, "")
    if not text:
        return default
    path = Path(text)
    return path if path.is_absolute() else folder / path


def load_conf(path: Path) -> Experiment:
    """Parse one experiment.conf with the earlier scripts' defaults (inventory §8)."""
    home = os.environ.get("HOME", str(Path.home()))
    values = parse_conf(path.read_text(encoding="utf-8"), home)
    for key in _REQUIRED:
        if not values.get(key, "").strip():
            raise UsageError(f"{path}: missing key {key}")
    folder = path.parent
    target = _path(values, "TARGET_REPO", folder, folder)
    build, test = values.get("BUILD_CMD", "make build"), values.get("TEST_CMD", "make test")
    return Experiment(
        name=safe_name(folder.name, "experiment folder name"),
        folder=folder,
        source=path,
        target_repo=target,
        base_ref=values["BASE_REF"],
        spec=values["SPEC"],
        arms=build_arms(ArmTables(file=path, profiles=tuple(values["PROFILES"].split()))),
        limits=Limits(
            max_iterations=_int(values, "MAX_ITERATIONS", 25, path),
            max_wall_time_s=_int(values, "MAX_WALL_TIME", 7200, path),
            max_failures=_int(values, "MAX_FAILURES", 3, path),
        ),
        worktree_base=_path(values, "WORKTREE_BASE", Path(home, "src", f"{target.name}-experiments"), folder),
        log_dir=_path(values, "RALPH_LOG_DIR", Path("/tmp/ralph-logs"), folder),
        results_dir=_path(values, "RESULTS_DIR", folder / "results", folder),
        build=Gate("build", build, 600.0) if build else None,
        test=Gate("test", test, float(_int(values, "TEST_TIMEOUT", 300, path))) if test else None,
        gates=_gates(values),
    )
