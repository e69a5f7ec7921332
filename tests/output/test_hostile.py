"""Property tests: parse_output never crashes, never accepts invalid data, and finds a valid last block."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ralph.output import END, START, example_for, parse_output, schema_for
from ralph.stage import Stage

STAGES = st.sampled_from(
    [Stage.PLAN, Stage.INVESTIGATE, Stage.BUILD, Stage.VERIFY, Stage.DECOMPOSE, Stage.DEDUP]
)
PIECES = st.sampled_from([START, END, "{", "}", "[", "]", '"', "\\", "```", "\x00", "\ufffd", ",", ":", "\n"])
HOSTILE = st.lists(st.one_of(st.text(max_size=40), PIECES), max_size=40).map("".join)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def _validator(stage: Stage) -> Draft202012Validator:
    return Draft202012Validator(schema_for(stage))


def assert_sound(stage: Stage, text: str) -> None:
    result = parse_output(stage, text)
    assert result.ok == (result.data is not None)
    assert result.ok == (not result.errors)
    assert all(isinstance(error, str) and 0 < len(error) <= 400 for error in result.errors)
    if result.ok:
        assert result.data is not None
        assert not list(_validator(stage).iter_errors(result.data))


@FAST
@given(stage=STAGES, text=HOSTILE)
def test_any_text_is_handled(stage: Stage, text: str) -> None:
    assert_sound(stage, text)


@FAST
@given(stage=STAGES, value=JSON_VALUES, before=HOSTILE, after=st.text(max_size=30))
def test_any_json_in_a_block_is_handled(stage: Stage, value: Any, before: str, after: str) -> None:
    assert_sound(stage, f"{before}{START}{json.dumps(value)}{END}{after.replace(END, '')}")


@FAST
@given(stage=STAGES, before=HOSTILE, after=st.text(max_size=40))
def test_valid_last_block_wins_over_any_junk_before_it(stage: Stage, before: str, after: str) -> None:
    example = example_for(stage)
    trailing = after.replace(END, "")
    result = parse_output(stage, f"{before}\n{START}\n{json.dumps(example)}\n{END}\n{trailing}")
    assert result.ok and result.data == example


@FAST
@given(
    stage=STAGES,
    data=st.dictionaries(
        st.sampled_from(["tasks", "verdict", "results", "subtasks", "keep", "dropped", "summary"]),
        JSON_VALUES,
        max_size=4,
    ),
)
def test_stage_shaped_junk_is_sound(stage: Stage, data: dict[str, Any]) -> None:
    assert_sound(stage, f"{START}{json.dumps(data)}{END}")


@settings(max_examples=30, deadline=None)
@given(depth=st.integers(min_value=1, max_value=3000), opener=st.sampled_from(["[", '{"a":']))
def test_nesting_of_any_depth_is_handled(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    assert_sound(
        Stage.BUILD, f'{START}{{"verdict":"done","summary":"s","x":{opener * depth}1{closer * depth}}}{END}'
    )


@settings(max_examples=30, deadline=None)
@given(
    digits=st.integers(min_value=1, max_value=20_000),
    exponent=st.integers(min_value=-10_000, max_value=10_000),
)
def test_enormous_numbers_are_handled(digits: int, exponent: int) -> None:
    number = "7" * digits
    assert_sound(Stage.BUILD, f'{START}{{"verdict":"done","summary":"s","n":{number}}}{END}')
    assert_sound(Stage.BUILD, f'{START}{{"verdict":"done","summary":"s","n":1.5e{exponent}}}{END}')


@FAST
@given(raw=st.binary(max_size=200))
def test_invalid_utf8_decoded_with_replacement_is_handled(raw: bytes) -> None:
    text = raw.decode("utf-8", errors="replace")
    assert_sound(Stage.VERIFY, text + START + text + END)
