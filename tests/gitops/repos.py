"""Test helpers for gitops: a git runner, an agent-like file writer, and a full file-tree state."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path


def git(repo: Path, *args: str, check: bool = True) -> str:
    """Run git in ``repo`` and return stdout (raises on failure when ``check``)."""
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def write(root: Path, rel: str, data: bytes | str) -> None:
    """Write ``rel`` under ``root``, making room like an agent would (files in the way of dirs go)."""
    parts = rel.split("/")
    for depth in range(1, len(parts)):
        parent = root.joinpath(*parts[:depth])
        if parent.is_symlink() or parent.is_file():
            parent.unlink()
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir() and not path.is_symlink():
        subprocess.run(["rm", "-rf", str(path)], check=True)
    elif path.is_symlink():
        path.unlink()
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def tree_state(root: Path) -> dict[str, tuple[str, object]]:
    """Every file, symlink and empty directory under ``root`` except ``.git``: path -> (kind, detail)."""
    state: dict[str, tuple[str, object]] = {}
    for top, dirs, files in os.walk(root):
        rel_top = os.path.relpath(top, root)
        if rel_top == ".git" or rel_top.startswith(".git" + os.sep):
            continue
        if rel_top != "." and not dirs and not files:
            state[rel_top] = ("emptydir", None)
        for name in dirs + files:
            full = os.path.join(top, name)
            rel = os.path.normpath(os.path.join(rel_top, name))
            if rel == ".git":
                continue
            mode = os.lstat(full).st_mode
            if stat.S_ISLNK(mode):
                state[rel] = ("link", os.readlink(full))
            elif stat.S_ISREG(mode):
                state[rel] = ("file", (Path(full).read_bytes(), bool(mode & stat.S_IXUSR)))
    return state
