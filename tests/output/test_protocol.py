"""parse_output: last complete block, schema errors fit for a repair prompt, hostile input, earlier shapes."""

from __future__ import annotations

import json
import time

import pytest
from jsonschema import Draft202012Validator

from ralph.output import (
    END,
    START,
    contract_text,
    example_for,
    parse_output,
    quality_errors,
    repair_prompt,
    schema_for,
)
from ralph.output.protocol import MAX_BLOCK_CHARS, SCAN_CHARS
from ralph.stage import Stage

STAGES = [Stage.PLAN, Stage.INVESTIGATE, Stage.BUILD, Stage.VERIFY, Stage.DECOMPOSE, Stage.DEDUP]


def block(data: object) -> str:
    return f"{START}\n{json.dumps(data)}\n{END}"


@pytest.mark.parametrize("stage", STAGES)
def test_schema_is_valid_and_example_validates(stage: Stage) -> None:
    Draft202012Validator.check_schema(schema_for(stage))
    assert parse_output(stage, "I did it.\n" + block(example_for(stage))).ok


@pytest.mark.parametrize("stage", STAGES)
def test_contract_text_carries_schema_markers_and_example(stage: Stage) -> None:
    text = contract_text(stage)
    assert text.count(START) >= 2 and text.count(END) >= 2
    assert json.dumps(schema_for(stage), separators=(", ", ": ")) in text
    assert "no code fences" in text
    assert parse_output(stage, text).ok, "the example at the end of the contract must itself parse"


@pytest.mark.parametrize("stage", STAGES)
def test_examples_pass_the_quality_rules(stage: Stage) -> None:
    assert quality_errors(stage, example_for(stage)) == []


def test_complete_has_no_contract() -> None:
    with pytest.raises(ValueError):
        schema_for(Stage.COMPLETE)


def test_last_complete_block_counts() -> None:
    first = block({"verdict": "blocked", "summary": "a", "reason": "r"})
    last = block({"verdict": "done", "summary": "b"})
    result = parse_output(Stage.BUILD, f"{first}\nthen more work\n{last}\n{START} unterminated")
    assert result.ok and result.data == {"verdict": "done", "summary": "b"}


def test_nested_blocks_take_the_innermost_last() -> None:
    text = f'{START} outer {START}{{"verdict":"done","summary":"inner"}}{END} trailing {END}'
    assert parse_output(Stage.BUILD, text).data == {"verdict": "done", "summary": "inner"}


def test_code_fences_and_surrounding_words_inside_the_block_are_tolerated() -> None:
    fenced = f'{START}\n```json\n{{"verdict":"done","summary":"s"}}\n```\n{END}'
    assert parse_output(Stage.BUILD, fenced).ok
    worded = f'{START} Here it is: {{"verdict":"done","summary":"s"}} thanks {END}'
    assert parse_output(Stage.BUILD, worded).ok


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("All tests pass. Task completed. The implementation is complete.", "no [RALPH_OUTPUT]"),
        (f'{START}{{"verdict":"done","summary":"s"}}', "is not closed"),
        (f'{{"verdict":"done","summary":"s"}}{END}', "without an opening"),
        (f"{START}   {END}", "block is empty"),
        (f"{START}the task is done{END}", "invalid JSON at line 1"),
        (f'{START}["done"]{END}', "must be a JSON object, got array"),
        (f'{START}{{"verdict":"done",}}{END}', "invalid JSON"),
        (f'{START}{{"verdict": NaN, "summary": ""}}{END}', "NaN is not valid JSON"),
        (f'{START}{{"verdict": 1e999, "summary": ""}}{END}', "out of range"),
        (f'{START}{{"n": {"9" * 5000}}}{END}', "invalid JSON"),
    ],
)
def test_unusable_answers_give_one_specific_error(text: str, error: str) -> None:
    result = parse_output(Stage.BUILD, text)
    assert not result.ok and result.data is None
    assert len(result.errors) == 1 and error in result.errors[0]


def test_no_verdict_is_ever_inferred_from_prose() -> None:
    prose = "The implementation is complete and all tests pass. verdict: done. " * 50
    for stage in STAGES:
        assert not parse_output(stage, prose).ok


def test_schema_errors_name_the_place() -> None:
    data = {
        "tasks": [
            {"name": "Task one here", "notes": "src/a.py", "accept": "x"},
            {"name": "Task two here", "notes": "src/b.py", "accept": "y", "priority": "urgent"},
            {"name": "Task three", "notes": "src/c.py"},
            {"name": 5, "notes": "", "accept": "z", "deps": [None]},
        ]
    }
    result = parse_output(Stage.PLAN, block(data))
    assert result.errors == (
        'tasks[1].priority: must be high, medium, low or 0-3, got "urgent"',
        "tasks[2].accept: required",
        "tasks[3].name: expected string, got integer",
        "tasks[3].notes: must not be empty",
        "tasks[3].deps[0]: must be a task id, a task name or a batch index, got null",
    )


@pytest.mark.parametrize(
    ("stage", "data", "error"),
    [
        (Stage.BUILD, {"summary": "s"}, "verdict: required"),
        (Stage.BUILD, {"verdict": "finished", "summary": "s"}, 'verdict: must be one of "done", "blocked"'),
        (
            Stage.VERIFY,
            {"results": [{"task_id": "t-1", "passed": "yes", "reason": ""}]},
            "results[0].passed: expected boolean, got string",
        ),
        (
            Stage.DECOMPOSE,
            {"subtasks": [example_for(Stage.PLAN)["tasks"][0]]},
            "subtasks: at least 2 items required, got 1",
        ),
        (Stage.DEDUP, {"keep": ["t-1"]}, "dropped: required"),
        (Stage.INVESTIGATE, {"tasks": "none"}, "tasks: expected array, got string"),
    ],
)
def test_stage_specific_errors(stage: Stage, data: dict[str, object], error: str) -> None:
    errors = parse_output(stage, block(data)).errors
    assert any(error in e for e in errors), errors


def test_errors_are_capped() -> None:
    tasks = [{"name": "x"} for _ in range(100)]
    errors = parse_output(Stage.PLAN, block({"tasks": tasks})).errors
    assert len(errors) == 11 and errors[-1] == "... more errors not shown"


def test_ten_thousand_tasks_are_refused_quickly() -> None:
    task = {"name": "n", "notes": "n", "accept": "a"}
    started = time.perf_counter()
    result = parse_output(Stage.PLAN, block({"tasks": [task] * 10_000}))
    assert time.perf_counter() - started < 5
    assert result.errors == ("tasks: 10000 items; at most 500 allowed",)


def test_deep_nesting_is_refused() -> None:
    deep = '{"verdict":"done","summary":"s","x":' + "[" * 100_000 + "]" * 100_000 + "}"
    result = parse_output(Stage.BUILD, f"{START}{deep}{END}")
    assert not result.ok and "nested deeper" in result.errors[0]
    moderate = '{"verdict":"done","summary":"s","x":' + "[" * 40 + "]" * 40 + "}"
    assert "nested deeper than 32" in parse_output(Stage.BUILD, f"{START}{moderate}{END}").errors[0]


def test_oversized_block_is_refused() -> None:
    big = json.dumps({"verdict": "done", "summary": "x" * (MAX_BLOCK_CHARS + 10)})
    result = parse_output(Stage.BUILD, f"{START}{big}{END}")
    assert "the limit is" in result.errors[0]


def test_hundred_megabytes_of_output_is_bounded() -> None:
    text = ("noise " * 1000 + "\n") * 17_000 + block({"verdict": "done", "summary": "s"})
    assert len(text) > 100_000_000
    started = time.perf_counter()
    assert parse_output(Stage.BUILD, text).ok
    early_block = block({"verdict": "done", "summary": "s"}) + "x" * (SCAN_CHARS + 10)
    assert not parse_output(Stage.BUILD, early_block).ok
    assert time.perf_counter() - started < 10


def test_nul_bytes_and_replacement_chars() -> None:
    text = "\x00\ufffd junk \ufffd" + f'{START}\x00{{"verdict":"done","summary":"caf\ufffd"}}\x00{END}\x00'
    result = parse_output(Stage.BUILD, text)
    assert result.ok and result.data == {"verdict": "done", "summary": "caf\ufffd"}


EARLIER_SHAPES = [
    (Stage.BUILD, {"verdict": "done", "summary": "Did it", "reason": "", "issues": [{"desc": "flaky test"}]}),
    (Stage.BUILD, {"verdict": "blocked", "summary": "", "reason": "needs a design decision"}),
    (
        Stage.VERIFY,
        {
            "results": [{"task_id": "t-1a2b3c4d", "passed": False, "reason": "src/x.c:12 still leaks"}],
            "issues": [{"desc": "missing test for gc", "priority": "high"}],
            "spec_complete": False,
            "new_tasks": [
                {
                    "name": "Add GC test",
                    "notes": "tests/gc.c",
                    "accept": "make test-gc exits 0",
                    "priority": "medium",
                }
            ],
        },
    ),
    (
        Stage.INVESTIGATE,
        {
            "tasks": [
                {
                    "name": "Fix the leak",
                    "notes": "src/x.c line 12",
                    "accept": "valgrind ./x shows 0 leaks",
                    "priority": "high",
                    "created_from": "i-0a1b2c3d",
                }
            ],
            "out_of_scope": ["i-11111111"],
            "summary": "one real issue",
        },
    ),
    (
        Stage.PLAN,
        {
            "tasks": [
                {
                    "name": "Rename heap",
                    "notes": "src/heap.c",
                    "accept": "grep -c old_heap src/heap.c returns 0",
                    "deps": ["t-1a2b3c4d"],
                    "priority": "low",
                    "spec": "x.md",
                }
            ],
            "drop": ["t-5e6f7a8b"],
        },
    ),
    (
        Stage.DECOMPOSE,
        {
            "subtasks": [
                {"name": "Part one", "notes": "src/a.c", "accept": "test -f src/a.c", "deps": []},
                {"name": "Part two", "notes": "src/b.c", "accept": "test -f src/b.c", "deps": [0]},
            ]
        },
    ),
    (Stage.DEDUP, {"keep": ["t-1"], "dropped": []}),
]


@pytest.mark.parametrize(("stage", "data"), EARLIER_SHAPES)
def test_earlier_shapes_still_parse(stage: Stage, data: dict[str, object]) -> None:
    result = parse_output(stage, block(data))
    assert result.ok, result.errors
    assert result.data == data


def test_repair_prompt_quotes_errors_and_asks_for_one_block() -> None:
    text = repair_prompt(Stage.PLAN, ["tasks[2].accept: required", "tasks[3].name: expected string"])
    assert "- tasks[2].accept: required" in text and "- tasks[3].name: expected string" in text
    assert START in text and END in text and "no code fences" in text
    assert parse_output(Stage.PLAN, text).ok, "the example inside the repair prompt must be valid"
    many = repair_prompt(Stage.BUILD, [f"e{n}" for n in range(50)])
    assert many.count("\n- ") == 11
