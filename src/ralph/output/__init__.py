"""The stage output protocol: what an agent must end its answer with, and how it is checked.

schemas.py   one JSON Schema per stage, a minimal example, and the contract text the prompts end with
protocol.py  parse_output: last complete [RALPH_OUTPUT] block -> ParsedOutput (bounded; no prose guessing);
             repair_prompt for in-session validation retries; storable_text (no lone surrogates)
validate.py  task quality rules (file-naming notes, measurable accept, one-line check, path safety)
"""

from ralph.output.protocol import (
    ParsedOutput,
    extract_block,
    parse_output,
    repair_prompt,
    storable_text,
    validate_output,
)
from ralph.output.schemas import END, START, contract_text, example_for, schema_for
from ralph.output.validate import quality_errors, validate_task, validate_tasks

__all__ = [
    "END",
    "START",
    "ParsedOutput",
    "contract_text",
    "example_for",
    "extract_block",
    "parse_output",
    "quality_errors",
    "repair_prompt",
    "schema_for",
    "storable_text",
    "validate_output",
    "validate_task",
    "validate_tasks",
]
