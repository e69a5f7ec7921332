"""Stage prompt templates (``<stage>.md``, ``repair.md``) and their strict renderer."""

from ralph.loop.prompts.render import REPAIR, render_prompt

__all__ = ["REPAIR", "render_prompt"]
