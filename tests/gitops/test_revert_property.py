"""Property: after any attempt, revert_attempt puts every non-ignored path back exactly as at the snapshot.

Ignored paths (by the snapshot's rules) and ``.tix/`` keep whatever the attempt left; HEAD, branch, index
and ``git status`` are as at the snapshot.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.gitops.repos import git, tree_state, write

from ralph.gitops import revert_attempt, snapshot_attempt

EXAMPLES = int(os.environ.get("GITOPS_PROPERTY_EXAMPLES", "25"))
"""Examples per run; raise it for a longer hunt (e.g. 500)."""
BASE_IGNORE = "*.log\nbuild/\n"
TRACKED = [
    "a.txt",
    "src/main.py",
    "docs/read me.md",
    "ünï/cødé.txt",
    "deep/er/x.bin",
    'q"uo.txt',
    "nl\nname.c",
]
USER_UNTRACKED = ["notes.md", "src/scratch.py", "space dir/f f.txt"]
IGNORED = ["build/out.o", "x.log", "src/y.log"]
NEW = [
    "new.txt",
    "new dir/ñew.txt",
    "src/gen/a.py",
    "deep/er/y.bin",
    "tmp.log",
    "src/.gitignore",
    "build/n.o",
]
EMPTY_DIRS = ["empty", "emptier/inner", "src/keep"]
ANY = TRACKED + USER_UNTRACKED + NEW + ["a.txt/inside"]

content = st.one_of(st.binary(max_size=48), st.text(max_size=24).map(str.encode))
ops = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.sampled_from(ANY), content),
        st.tuples(st.just("delete"), st.sampled_from(ANY + IGNORED + [".gitignore"])),
        st.tuples(st.just("chmod"), st.sampled_from(ANY)),
        st.tuples(
            st.just("symlink"), st.sampled_from(["link1", "src/link2"]), st.sampled_from(["a.txt", "/"])
        ),
        st.tuples(st.just("to_dir"), st.sampled_from(TRACKED + USER_UNTRACKED)),
        st.tuples(st.just("ignore_more"), st.sampled_from(["*.txt", "src/", "new*"])),
        st.tuples(st.just("rmdir"), st.sampled_from(EMPTY_DIRS)),
        st.tuples(st.just("tix"), content),
        st.tuples(st.sampled_from(["git_add", "commit", "switch"])),
    ),
    max_size=10,
)


def base_ignored(rel: str) -> bool:
    """Ignored by the snapshot's rules (BASE_IGNORE) or excluded (.tix)."""
    parts = rel.split("/")
    return rel.endswith(".log") or "build" in parts[:-1] or rel == "build" or parts[0] == ".tix"


def apply(root: Path, op: tuple[Any, ...]) -> None:
    """One agent action."""
    kind, *args = op
    path = root / args[0] if args and isinstance(args[0], str) else root
    if kind == "write":
        write(root, args[0], args[1])
    elif kind == "delete" and (path.is_file() or path.is_symlink()):
        path.unlink()
    elif kind == "chmod" and path.is_file() and not path.is_symlink():
        path.chmod(path.stat().st_mode ^ 0o100)
    elif kind == "symlink" and not path.exists() and not path.is_symlink():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(args[1])
    elif kind == "to_dir" and path.is_file():
        path.unlink()
        write(root, f"{args[0]}/inner.txt", b"dir now")
    elif kind == "ignore_more":
        with open(root / ".gitignore", "a") as fh:
            fh.write(args[0] + "\n")
    elif kind == "rmdir" and path.is_dir() and not os.listdir(path):
        path.rmdir()
    elif kind == "tix":
        write(root, ".tix/plan.jsonl", args[0])
    elif kind in ("git_add", "commit"):
        git(root, "add", "-A", check=False)
        if kind == "commit":
            git(root, "commit", "-q", "--allow-empty", "-m", "agent commit", check=False)
    elif kind == "switch":
        git(root, "switch", "-q", "-c", "agent-branch", check=False)


def make_repo(root: Path, tracked: dict[str, bytes], untracked: dict[str, bytes], empty: set[str]) -> None:
    subprocess.run(["git", "init", "-q", "-b", "ralph/work", str(root)], check=True)
    write(root, ".gitignore", BASE_IGNORE)
    for rel, data in tracked.items():
        write(root, rel, data)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    for rel, data in untracked.items():
        write(root, rel, data)
    for rel in IGNORED:
        write(root, rel, b"ignored " + rel.encode())
    write(root, ".tix/plan.jsonl", b'{"id":"t-1"}\n')
    for rel in empty:
        (root / rel).mkdir(parents=True, exist_ok=True)


def index_and_status(root: Path) -> tuple[str, str, str, str]:
    spec = ":(exclude).tix"
    return (
        git(root, "ls-files", "-s", "-z", "--", ".", spec),
        git(root, "status", "--porcelain=v1", "-z", "-uall", "--", ".", spec),
        git(root, "rev-parse", "HEAD"),
        git(root, "symbolic-ref", "-q", "HEAD"),
    )


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tracked=st.dictionaries(st.sampled_from(TRACKED), content, min_size=1, max_size=5),
    untracked=st.dictionaries(st.sampled_from(USER_UNTRACKED), content, max_size=3),
    empty=st.sets(st.sampled_from(EMPTY_DIRS), max_size=2),
    actions=ops,
)
def test_revert_restores_snapshot_exactly(
    tracked: dict[str, bytes], untracked: dict[str, bytes], empty: set[str], actions: list[tuple[Any, ...]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        make_repo(root, tracked, untracked, empty)
        before, git_before = tree_state(root), index_and_status(root)
        snap = snapshot_attempt(root)
        for action in actions:
            apply(root, action)
        after_attempt = tree_state(root)
        report = revert_attempt(root, snap)
        after = tree_state(root)
        expected = {p: v for p, v in before.items() if not base_ignored(p)}
        expected |= {p: v for p, v in after_attempt.items() if base_ignored(p)}
        assert after == expected
        assert index_and_status(root) == git_before
        assert report.unrestored == ()
        assert revert_attempt(root, snap).changed is False
