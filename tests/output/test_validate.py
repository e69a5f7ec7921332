"""Task quality rules: file-naming notes, measurable accept, one-line check, path safety."""

from __future__ import annotations

from pathlib import Path

import pytest

from ralph.output import quality_errors, validate_task, validate_tasks
from ralph.output.validate import has_file_reference, is_measurable
from ralph.stage import Stage

GOOD = {
    "name": "Add --json flag to report",
    "notes": "Create src/app/report_json.py with to_json(rows); call it from report() in src/app/report.py.",
    "accept": "pytest tests/test_report.py -k json exits 0",
    "check": "pytest -q tests/test_report.py -k json",
}


def with_(**changes: object) -> dict[str, object]:
    return {**GOOD, **changes}


def test_a_good_task_passes_both_modes() -> None:
    assert validate_task(GOOD, strict=True) == []
    assert validate_task(GOOD, strict=False) == []


def test_line_numbers_are_not_required_for_new_files() -> None:
    task = with_(notes="Create src/app/new_module.py exposing parse_args(argv) -> Namespace.")
    assert validate_task(task, strict=True) == []


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"name": "Fix"}, "name: at least 5 characters"),
        ({"notes": ""}, "notes: required"),
        (
            {"notes": "Refactor the allocator so that it is faster and cleaner overall."},
            "notes: name at least one",
        ),
        ({"accept": ""}, "accept: required"),
        ({"accept": "works"}, "accept: at least 10 characters"),
        ({"accept": "All tests pass."}, "accept: too vague"),
        ({"accept": "It works correctly"}, "accept: too vague"),
        ({"accept": "make tests"}, "accept: untargeted command"),
        ({"accept": "make test passes"}, "accept: untargeted command"),
        ({"accept": "`cargo test`"}, "accept: untargeted command"),
        ({"accept": "The feature should be much nicer to use now"}, "accept: not measurable"),
    ],
)
def test_strict_rules(changes: dict[str, object], error: str) -> None:
    errors = validate_task(with_(**changes), strict=True)
    assert any(e.startswith(error) for e in errors), errors


def test_lenient_mode_only_needs_the_fields() -> None:
    task = with_(notes="Make it faster", accept="tests pass")
    assert validate_task(task, strict=False) == []
    assert validate_task({"name": "A name"}, strict=False) == ["notes: required", "accept: required"]


@pytest.mark.parametrize(
    "accept",
    [
        "pytest tests/test_gc.py::test_sweep passes",
        "python -m mypkg.cli --help prints usage",
        "grep -q 'def sweep' src/gc.py",
        "test -f docs/api.md",
        "src/gc.c no longer contains old_heap (grep -c returns 0)",
        "./build/bin/valk exits 0 on examples/hello.valk",
        "make -C tests gc_test && ./tests/gc_test",
    ],
)
def test_measurable_accepts(accept: str) -> None:
    assert is_measurable(accept), accept
    assert validate_task(with_(accept=accept), strict=True) == []


@pytest.mark.parametrize(
    ("check", "error"),
    [
        ("pytest tests/a.py\npytest tests/b.py", "single command line"),
        ("`pytest tests/a.py`", "remove the backticks"),
        ("pytest tests/a.py passes", "no prose"),
        ("pytest tests/a.py exits 0", "no prose"),
        ("Run pytest tests/a.py", "no prose"),
        ("make test should succeed", "no prose"),
        ("echo 'unbalanced", "unbalanced quotes"),
        (["pytest"], "must be a string"),
    ],
)
def test_check_must_be_one_bare_command(check: object, error: str) -> None:
    errors = validate_task(with_(check=check), strict=False)
    assert any(error in e for e in errors), errors


@pytest.mark.parametrize(
    "check",
    [
        "pytest -q tests/test_report.py -k json",
        "grep -rq 'old_heap' src/ && exit 1 || exit 0",
        "test -f src/app/report_json.py",
        "cargo test --test gc -- --exact sweep",
        "find . -name '*.orig' | wc -l | grep -qx 0",
        "make -C tests >/dev/null 2>&1",
    ],
)
def test_good_checks(check: str) -> None:
    assert validate_task(with_(check=check), strict=True) == []


def test_empty_check_means_none() -> None:
    assert validate_task(with_(check=""), strict=True) == []


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("notes", "Also update ../other-repo/src/x.py to match."),
        ("check", "cat /etc/passwd"),
        ("notes", "Edit ~/.bashrc to add the PATH entry in src/x.py"),
        ("accept", "test -f src/../../outside/file.txt"),
    ],
)
def test_paths_leaving_the_repo_are_flagged(field: str, text: str) -> None:
    errors = validate_task(with_(**{field: text}), strict=False)
    assert any(e.startswith(f"{field}: path ") and "outside the repository" in e for e in errors), errors


def test_absolute_paths_inside_the_repo_and_system_files_are_fine() -> None:
    repo = Path("/work/project")
    task = with_(check=f"test -f {repo}/src/a.py > /dev/null", notes=f"Edit {repo}/src/a.py and src/b.py")
    assert validate_task(task, strict=True, repo=repo) == []
    assert validate_task(task, strict=True, repo=None) != []


def test_urls_are_not_paths() -> None:
    assert (
        validate_task(with_(notes="See https://example.com/a/b.html for src/app/report.py"), strict=True)
        == []
    )


def test_file_references() -> None:
    for text in ["src/a.py", "Makefile", "tests/", "include/gc.h", "README.md", "CMakeLists.txt"]:
        assert has_file_reference(f"change {text} please"), text
    for text in ["make it faster", "e.g. this", "version 1.2"]:
        assert not has_file_reference(text), text


def test_validate_tasks_prefixes_positions() -> None:
    errors = validate_tasks([GOOD, with_(accept="")], strict=True, prefix="subtasks")
    assert errors == ["subtasks[1].accept: required"]


def test_quality_errors_per_stage() -> None:
    vague = with_(accept="tests pass")
    assert quality_errors(Stage.PLAN, {"tasks": [GOOD, vague]}) == [
        "tasks[1].accept: too vague ('tests pass'); say what command or observable result proves it"
    ]
    assert quality_errors(Stage.INVESTIGATE, {"tasks": [vague]}) == []
    assert quality_errors(Stage.VERIFY, {"results": [], "new_tasks": [with_(notes="")]}) == [
        "new_tasks[0].notes: required"
    ]
    assert quality_errors(Stage.BUILD, {"verdict": "done"}) == []
