"""One JSON Schema per stage (shared by the prompt's contract text and the validator), with a minimal example.

Earlier-ralph shapes stay valid: extra keys are allowed everywhere, additions such as ``check`` are optional.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Final

from ralph.stage import Stage

__all__ = [
    "END",
    "EXAMPLES",
    "LIST_LIMITS",
    "MAX_LIST_ITEMS",
    "START",
    "contract_text",
    "example_for",
    "schema_for",
]

START: Final = "[RALPH_OUTPUT]"
END: Final = "[/RALPH_OUTPUT]"
MAX_LIST_ITEMS: Final = 500
"""Longest task/result/id list a stage may return; longer outputs are errors, not work."""

_TEXT = {"type": "string"}
_NONEMPTY = {"type": "string", "minLength": 1}
_IDS = {"type": "array", "maxItems": MAX_LIST_ITEMS, "items": _NONEMPTY}
_PRIORITY = {
    "anyOf": [
        {"type": "string", "pattern": "^(?i:high|medium|low|none)$"},
        {"type": "integer", "minimum": 0, "maximum": 3},
    ]
}
_TASK: dict[str, Any] = {
    "type": "object",
    "required": ["name", "notes", "accept"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 300},
        "notes": _NONEMPTY,
        "accept": _NONEMPTY,
        "check": {"type": "string"},
        "deps": {
            "type": "array",
            "maxItems": MAX_LIST_ITEMS,
            "items": {"anyOf": [{"type": "integer", "minimum": 0}, _NONEMPTY]},
        },
        "priority": _PRIORITY,
        "labels": {"type": "array", "maxItems": 50, "items": _TEXT},
        "created_from": _TEXT,
    },
}
_ISSUES = {
    "type": "array",
    "maxItems": MAX_LIST_ITEMS,
    "items": {
        "type": "object",
        "required": ["desc"],
        "properties": {"desc": _NONEMPTY, "priority": _PRIORITY},
    },
}


def _tasks(min_items: int = 0, max_items: int = MAX_LIST_ITEMS) -> dict[str, Any]:
    return {"type": "array", "minItems": min_items, "maxItems": max_items, "items": _TASK}


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


_SCHEMAS: dict[Stage, dict[str, Any]] = {
    Stage.PLAN: _object(["tasks"], {"tasks": _tasks(), "drop": _IDS}),
    Stage.BUILD: _object(
        ["verdict", "summary"],
        {"verdict": {"enum": ["done", "blocked"]}, "summary": _TEXT, "reason": _TEXT, "issues": _ISSUES},
    ),
    Stage.VERIFY: _object(
        ["results"],
        {
            "results": {
                "type": "array",
                "maxItems": MAX_LIST_ITEMS,
                "items": _object(
                    ["task_id", "passed", "reason"],
                    {"task_id": _NONEMPTY, "passed": {"type": "boolean"}, "reason": _TEXT},
                ),
            },
            "issues": _ISSUES,
            "spec_complete": {"type": "boolean"},
            "new_tasks": _tasks(),
        },
    ),
    Stage.INVESTIGATE: _object(["tasks"], {"tasks": _tasks(), "out_of_scope": _IDS, "summary": _TEXT}),
    Stage.DECOMPOSE: _object(["subtasks"], {"subtasks": _tasks(2, 5)}),
    Stage.DEDUP: _object(["keep", "dropped"], {"keep": _IDS, "dropped": _IDS}),
}

LIST_LIMITS: dict[Stage, dict[str, int]] = {
    stage: {key: spec["maxItems"] for key, spec in schema["properties"].items() if "maxItems" in spec}
    for stage, schema in _SCHEMAS.items()
}
"""Top-level list fields and their maxItems, checked before the validator walks a huge list."""

_EXAMPLE_TASK = {
    "name": "Add --json flag to the report command",
    "notes": "Edit src/app/report.py: add a --json option to report() that prints json.dumps(rows).",
    "accept": "pytest tests/test_report.py -k json exits 0",
    "check": "pytest -q tests/test_report.py -k json",
    "deps": [],
    "priority": "high",
}

EXAMPLES: dict[Stage, dict[str, Any]] = {
    Stage.PLAN: {"tasks": [_EXAMPLE_TASK], "drop": []},
    Stage.BUILD: {
        "verdict": "done",
        "summary": "Added --json to report() in src/app/report.py.",
        "issues": [],
    },
    Stage.VERIFY: {
        "results": [
            {"task_id": "t-1a2b3c4d", "passed": True, "reason": "tests/test_report.py::test_json passes"}
        ],
        "issues": [],
        "spec_complete": False,
    },
    Stage.INVESTIGATE: {"tasks": [{**_EXAMPLE_TASK, "created_from": "i-0a1b2c3d"}], "out_of_scope": []},
    Stage.DECOMPOSE: {
        "subtasks": [
            {**_EXAMPLE_TASK, "name": "Add the --json option to report()"},
            {
                **_EXAMPLE_TASK,
                "name": "Test the JSON report output",
                "notes": "Create tests/test_report.py with test_json calling report(json=True).",
            },
        ]
    },
    Stage.DEDUP: {"keep": ["t-1a2b3c4d"], "dropped": ["t-5e6f7a8b"]},
}
"""A minimal valid output per stage, shown in the prompt; tests check each validates."""


def schema_for(stage: Stage) -> dict[str, Any]:
    """The JSON Schema of ``stage``'s output object (a fresh copy)."""
    try:
        return copy.deepcopy(_SCHEMAS[stage])
    except KeyError:
        raise ValueError(f"stage {stage.value} has no output contract") from None


def example_for(stage: Stage) -> dict[str, Any]:
    """A minimal valid output for ``stage`` (a fresh copy)."""
    return copy.deepcopy(EXAMPLES[stage])


_TASK_RULES = "Task notes name the files to change; accept is measurable; check is one shell command."
_STAGE_NOTES = {
    Stage.BUILD: '"done" only if the accept criteria hold now; otherwise "blocked" with a reason.',
    Stage.VERIFY: "One result per task you were asked to verify; passed must be true or false.",
    Stage.DECOMPOSE: "Between 2 and 5 subtasks, each small enough for one BUILD.",
    Stage.DEDUP: "Every listed task id appears in exactly one of keep or dropped.",
    Stage.PLAN: _TASK_RULES,
    Stage.INVESTIGATE: _TASK_RULES,
}


def contract_text(stage: Stage) -> str:
    """The prompt's closing section for ``stage``: block format, schema and a minimal valid example."""
    schema = json.dumps(schema_for(stage), separators=(", ", ": "))
    example = json.dumps(example_for(stage), ensure_ascii=False)
    return "\n".join(
        [
            "## Output contract",
            "",
            f"Your final action is to write exactly one {START} ... {END} block holding one JSON object.",
            "Write it as plain text: no code fences, no comments, nothing after the closing marker.",
            "Only the last complete block counts; without a valid block the stage fails (prose is not read).",
            _STAGE_NOTES[stage],
            "",
            "JSON Schema of the object:",
            schema,
            "",
            "Minimal valid example:",
            START,
            example,
            END,
        ]
    )
