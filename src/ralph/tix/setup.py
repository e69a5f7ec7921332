"""``tix init``: the ``.tix/`` folder, its config, the ignore entries and the union-merge attribute."""

from __future__ import annotations

from pathlib import Path

__all__ = ["IGNORED", "init_tix_dir"]

IGNORED = (".tix/cache.db*", ".tix/lock")
_CONFIG = '[repo]\nmain_branch = "main"\nplan_file = ".tix/plan.jsonl"\n\n[display]\ncolor = true\n'
_ATTRIBUTES = "plan.jsonl merge=union\n"


def init_tix_dir(root: Path) -> list[str]:
    """Create what is missing and return one line per thing created (re-running changes nothing)."""
    tix = root / ".tix"
    made: list[str] = []
    if not tix.is_dir():
        tix.mkdir()
        made.append("created .tix/")
    for name, text in (("plan.jsonl", ""), ("config.toml", _CONFIG), (".gitattributes", _ATTRIBUTES)):
        path = tix / name
        if not path.exists():
            path.write_text(text, encoding="utf-8")
            made.append(f"created .tix/{name}")
    if _ensure_ignored(root / ".gitignore"):
        made.append("added .tix/cache.db and .tix/lock to .gitignore")
    return made


def _ensure_ignored(gitignore: Path) -> bool:
    text = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    present = {line.strip() for line in text.splitlines()}
    missing = [entry for entry in IGNORED if entry not in present]
    if not missing:
        return False
    prefix = "" if not text or text.endswith("\n") else "\n"
    gitignore.write_text(text + prefix + "\n".join(missing) + "\n", encoding="utf-8")
    return True
