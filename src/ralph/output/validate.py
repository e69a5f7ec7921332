"""Task quality rules (the earlier ones, fixed): notes naming files, measurable accept, one-line check.

Strict (PLAN) also wants notes that name a file and an accept that can be checked; line numbers are never
required (new files have none). Paths that climb out of the repo (``..``, ``~``, foreign absolute paths) are
flagged in every mode.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from ralph.stage import Stage

__all__ = [
    "has_file_reference",
    "is_measurable",
    "path_errors",
    "quality_errors",
    "validate_task",
    "validate_tasks",
]

_EXTENSIONS = (
    "py|pyi|ts|tsx|js|jsx|mjs|cjs|go|rs|c|cc|cpp|cxx|h|hh|hpp|java|kt|kts|rb|php|cs|swift|scala|sql|sh|bash|"
    "zsh|md|rst|txt|json|jsonl|yaml|yml|toml|ini|cfg|conf|xml|html|css|scss|vue|svelte|proto|lock|mk|cmake|"
    "gradle|tf|lua|ex|exs|erl|hs|ml|zig|nim|dart|r|jl|ipynb|csv|env"
)
_FILE_REF = re.compile(
    rf"(?:(?<![\w/.-])[\w.-]+/)*[\w-][\w.-]*\.(?:{_EXTENSIONS})\b"
    r"|(?<![\w/.-])(?:[\w.-]+/)+[\w.-]*"
    r"|\b(?:Makefile|Dockerfile|CMakeLists\.txt|Justfile|Rakefile|Gemfile|Cargo\.toml|go\.mod)\b",
    re.IGNORECASE,
)
_VAGUE = re.compile(
    r"^(it |the code |the feature |everything |all )?(works?( correctly| properly| as expected)?|"
    r"(all )?tests? (pass(es)?|succeed)|builds?( successfully)?|compiles?( successfully| cleanly)?|"
    r"no (errors?|warnings?|issues?)|looks? (good|right|correct)|is (implemented|done|complete|fixed)|"
    r"(feature|functionality|implementation) (is )?(complete|works|done)|done|complete|fixed)$",
    re.IGNORECASE,
)
_UNTARGETED = re.compile(
    r"^(make( -j\s*\d+)?( (test|tests|check|all|build|clean|lint|format))?|pytest( -\S+)*|"
    r"(npm|yarn|pnpm) (run )?test|cargo test|go test( \./\.\.\.)?|tox|ctest)$",
    re.IGNORECASE,
)
_RESULT_SUFFIX = re.compile(
    r"`?\s+(passes|succeeds|works|is green|exits (with )?(code |status )?0|returns 0)\.?$", re.IGNORECASE
)
_COMMAND = re.compile(
    r"(^|[\s`'\"(])(pytest|python3?|node|npm|yarn|pnpm|cargo|go|make|gcc|g\+\+|clang|cmake|ninja|meson|"
    r"grep|rg|test|diff|cmp|bash|sh|curl|jq|ruff|mypy|tsc|eslint|git|ls|wc|cat|\./[\w./-]+)\s+\S",
)
_OBSERVABLE = re.compile(
    r"\b(exits?|exit (code|status)|returns?|prints?|outputs?|contains?|equals?|matches|raises|fails with|"
    r"responds?|status(code)?|exists?|is present|is absent|shows?|writes?|creates?|passes|reports?|"
    r"count|lists?)\b|==|!=|>=|<=|\b\d+\b",
    re.IGNORECASE,
)
_PROSE_IN_CHECK = re.compile(
    r"(\s(should|must|ensure|verify that|make sure|then)\s)|"
    r"\s(passes|succeeds|works|returns \w+|exits (with )?(code |status )?\d+|is \w+)\.?$|"
    r"^(run|verify|check|ensure|confirm|make sure)\s|[A-Za-z]{3,}\.$",
    re.IGNORECASE,
)
_ABS_PATH = re.compile(r"(?<![\w:/.~-])/[\w.@+-]+(?:/[\w.@+-]*)*")
_PARENT = re.compile(r"(?:^|[\s'\"`(=:,])((?:[\w.-]+/)*\.\.(?:/[\w.@+-]*)*)(?=$|[\s'\"`),;:])")
_HOME = re.compile(r"(?:^|[\s'\"`(=])(~/[\w./-]*)")
_SAFE_ABS = ("/dev/null", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/usr/bin/env", "/bin/sh", "/bin/bash")
_SAFE_ABS_DIRS = ("/tmp/", "/usr/include/", "/usr/bin/", "/usr/lib/", "/proc/self/")
_PATH_FIELDS = ("name", "notes", "accept", "check")


def _is_untargeted(text: str) -> bool:
    """A bare project-wide command (``make test``, ``pytest``), possibly with a result word after it."""
    command = _RESULT_SUFFIX.sub("", text.strip().strip("`").strip()).strip("`").strip()
    return bool(_UNTARGETED.match(command))


def has_file_reference(text: str) -> bool:
    """True when ``text`` names a file or folder (``src/app.py``, ``tests/``, ``Makefile``)."""
    return bool(_FILE_REF.search(text))


def is_measurable(accept: str) -> bool:
    """An accept criterion someone can check: a targeted command, or an observable outcome of a named file."""
    text = accept.strip()
    if _VAGUE.match(text.rstrip(". !")) or _is_untargeted(text):
        return False
    if _COMMAND.search(text) and (
        has_file_reference(text) or re.search(r"['\"]", text) or _OBSERVABLE.search(text)
    ):
        return True
    return has_file_reference(text) and bool(_OBSERVABLE.search(text))


def validate_task(task: Mapping[str, Any], strict: bool, *, repo: Path | None = None) -> list[str]:
    """Quality errors of one task, each ``field: problem``; empty when the task is fit to build."""
    errors: list[str] = []
    name, notes, accept = (_text(task, key) for key in ("name", "notes", "accept"))
    if len(name.strip()) < 5:
        errors.append("name: at least 5 characters")
    errors += _notes_errors(notes, strict)
    errors += _accept_errors(accept, strict)
    check = task.get("check")
    if check not in (None, ""):
        errors += _check_errors(check)
    errors += path_errors(task, repo)
    return errors


def _text(task: Mapping[str, Any], key: str) -> str:
    value = task.get(key)
    return value if isinstance(value, str) else ""


def _notes_errors(notes: str, strict: bool) -> list[str]:
    if not notes.strip():
        return ["notes: required"]
    if strict and not has_file_reference(notes):
        return ["notes: name at least one file or folder to change (e.g. src/app/report.py)"]
    return []


def _accept_errors(accept: str, strict: bool) -> list[str]:
    text = accept.strip()
    if not text:
        return ["accept: required"]
    if not strict:
        return []
    if len(text) < 10:
        return ["accept: at least 10 characters"]
    if _VAGUE.match(text.rstrip(". !")):
        return [f"accept: too vague ({text[:40]!r}); say what command or observable result proves it"]
    if _is_untargeted(text):
        return [f"accept: untargeted command ({text[:40]!r}); name the test, file or pattern"]
    if not is_measurable(text):
        return ["accept: not measurable; give a targeted command or an observable result of a named file"]
    return []


def _check_errors(check: Any) -> list[str]:
    if not isinstance(check, str):
        return ["check: must be a string holding one shell command"]
    command = check.strip()
    if "\n" in command or "\r" in command:
        return ["check: must be a single command line"]
    if command.startswith("`") or command.endswith("`"):
        return ["check: remove the backticks; write the bare command"]
    try:
        shlex.split(command)
    except ValueError:
        return ["check: not a valid shell command (unbalanced quotes)"]
    if _PROSE_IN_CHECK.search(command):
        return ["check: only the command, no prose (put the expected result in accept)"]
    return []


def path_errors(task: Mapping[str, Any], repo: Path | None = None) -> list[str]:
    """Paths in the task that leave the repo: ``..`` parts, ``~/`` and absolute paths outside ``repo``."""
    errors: list[str] = []
    for key in _PATH_FIELDS:
        text = _text(task, key)
        for bad in _escaping_paths(text, repo):
            errors.append(f"{key}: path {bad!r} is outside the repository")
    return errors[:5]


def _escaping_paths(text: str, repo: Path | None) -> list[str]:
    found = [m.group(1) for m in _PARENT.finditer(text) if ".." in PurePosixPath(m.group(1)).parts]
    found += [m.group(1) for m in _HOME.finditer(text)]
    for match in _ABS_PATH.finditer(text):
        path = match.group(0)
        if path in _SAFE_ABS or path.startswith(_SAFE_ABS_DIRS) or _inside(path, repo):
            continue
        found.append(path)
    return found


def _inside(path: str, repo: Path | None) -> bool:
    if repo is None or ".." in PurePosixPath(path).parts:
        return False
    root = PurePosixPath(repo.as_posix())
    return PurePosixPath(path) == root or root in PurePosixPath(path).parents


def validate_tasks(
    tasks: Sequence[Any], strict: bool, *, prefix: str = "tasks", repo: Path | None = None
) -> list[str]:
    """``validate_task`` over a list, each error prefixed with its place (``tasks[2].accept: ...``)."""
    errors: list[str] = []
    for index, task in enumerate(tasks):
        if isinstance(task, Mapping):
            errors += [f"{prefix}[{index}].{error}" for error in validate_task(task, strict, repo=repo)]
    return errors


_TASK_LISTS: dict[Stage, tuple[str, bool]] = {
    Stage.PLAN: ("tasks", True),
    Stage.INVESTIGATE: ("tasks", False),
    Stage.DECOMPOSE: ("subtasks", False),
    Stage.VERIFY: ("new_tasks", False),
}


def quality_errors(stage: Stage, data: Mapping[str, Any], *, repo: Path | None = None) -> list[str]:
    """Task-quality errors of a schema-valid output (PLAN strict, the other task lists lenient)."""
    if stage not in _TASK_LISTS:
        return []
    key, strict = _TASK_LISTS[stage]
    tasks = data.get(key)
    return validate_tasks(tasks, strict, prefix=key, repo=repo) if isinstance(tasks, list) else []
