"""Refresh the generated parts of README.md (the configuration reference) from the code."""

from __future__ import annotations

import sys
from pathlib import Path

from ralph.settings.describe import reference_markdown

BEGIN = "<!-- BEGIN CONFIG REFERENCE -->"
END = "<!-- END CONFIG REFERENCE -->"
README = Path(__file__).resolve().parents[1] / "README.md"


def with_reference(text: str) -> str:
    """README text with the block between the markers replaced by the current reference table."""
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{reference_markdown().rstrip()}\n{END}{tail}"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    new = with_reference(text)
    if new != text:
        README.write_text(new, encoding="utf-8")
        print("README.md: configuration reference refreshed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
