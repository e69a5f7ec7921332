"""Render ``<stage>.md`` templates with Jinja ``StrictUndefined``: a missing variable is an error.

Every prompt ends with the stage's output contract (``ralph.output.contract_text``), generated from the same
JSON Schema the validator uses.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ralph.stage import Stage

if TYPE_CHECKING:
    import jinja2

__all__ = ["REPAIR", "render_prompt"]

REPAIR = "repair"
"""Template of the in-session repair (validation retry) prompt."""

_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """Built on the first prompt: jinja2 and the schemas load then, not with every ``ralph`` command."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=False,
    )


def render_prompt(stage: Stage, template: str | None = None, **context: Any) -> str:
    """The prompt of ``stage`` (or of ``template``, e.g. the repair prompt) ending with its contract."""
    from ralph.output import contract_text

    name = f"{template or stage.key}.md"
    context.setdefault("rules", "")
    context.setdefault("rules_file", "")
    text = _environment().get_template(name).render(contract=contract_text(stage), **context)
    return text.rstrip() + "\n"
