"""Iteration commits: everything not ignored (``.tix`` included), or only the given paths."""

from __future__ import annotations

from pathlib import Path

from tests.gitops.repos import git, write

from ralph.gitops import commit_all, commit_paths, head_sha


def committed_files(repo: Path) -> set[str]:
    return set(git(repo, "ls-tree", "-r", "--name-only", "-z", "HEAD").split("\0")) - {""}


def test_nothing_to_commit_returns_none(git_repo: Path) -> None:
    assert commit_all(git_repo, "ralph: nothing") is None


def test_commit_all_takes_new_files_and_tix_but_never_ignored(git_repo: Path) -> None:
    write(git_repo, ".gitignore", "*.log\nnode_modules/\n")
    write(git_repo, "src/new file.py", "x = 1\n")
    write(git_repo, ".tix/plan.jsonl", "{}\n")
    write(git_repo, "debug.log", "noise\n")
    write(git_repo, "node_modules/pkg/index.js", "//\n")
    write(git_repo, "README.md", "changed\n")
    sha = commit_all(git_repo, "ralph: accept t-1 add module\n\n# not a comment: kept\nSpec: s")
    assert sha == head_sha(git_repo, short=False)
    assert committed_files(git_repo) == {".gitignore", "README.md", "src/new file.py", ".tix/plan.jsonl"}
    message = git(git_repo, "log", "-1", "--format=%B")
    assert message.startswith("ralph: accept t-1 add module\n\n# not a comment: kept\nSpec: s")
    assert git(git_repo, "status", "--porcelain=v1", "-uall") == ""


def test_commit_all_without_untracked_leaves_new_files_out(git_repo: Path) -> None:
    write(git_repo, "README.md", "changed\n")
    write(git_repo, "new.txt", "new\n")
    assert commit_all(git_repo, "tracked only", include_untracked=False) is not None
    assert committed_files(git_repo) == {"README.md"}
    assert git(git_repo, "status", "--porcelain=v1") == "?? new.txt\n"


def test_commit_all_records_deletions(git_repo: Path) -> None:
    (git_repo / "README.md").unlink()
    write(git_repo, "other.md", "x\n")
    commit_all(git_repo, "swap")
    assert committed_files(git_repo) == {"other.md"}


def test_commit_paths_commits_only_those_paths(git_repo: Path) -> None:
    write(git_repo, ".tix/plan.jsonl", "{}\n")
    write(git_repo, "README.md", "agent edit\n")
    write(git_repo, "staged.txt", "the user staged this\n")
    git(git_repo, "add", "staged.txt")
    assert commit_paths(git_repo, [".tix/plan.jsonl"], "ralph: save state") is not None
    assert committed_files(git_repo) == {"README.md", ".tix/plan.jsonl"}
    assert git(git_repo, "show", "HEAD:README.md") == "test repo\n"
    assert sorted(git(git_repo, "status", "--porcelain=v1").splitlines()) == [" M README.md", "A  staged.txt"]
    assert commit_paths(git_repo, [".tix/plan.jsonl"], "again") is None
    assert commit_paths(git_repo, [], "none") is None


def test_commit_paths_skips_paths_that_do_not_exist(git_repo: Path) -> None:
    write(git_repo, "ralph/config.toml", "x = 1\n")
    assert commit_paths(git_repo, ["ralph", ".tix", "missing/file.txt"], "ralph: init") is not None
    assert committed_files(git_repo) == {"README.md", "ralph/config.toml"}
    (git_repo / "ralph" / "config.toml").unlink()
    assert commit_paths(git_repo, ["ralph", ".tix"], "ralph: drop config") is not None
    assert committed_files(git_repo) == {"README.md"}
    assert commit_paths(git_repo, ["nothing-here"], "none") is None
