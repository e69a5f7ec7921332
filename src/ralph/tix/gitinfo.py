"""The few git facts tix needs (root, branch, HEAD, user, plan history). Never commits.

The root and branch are read from the filesystem (no process start on the hot path); everything else
runs ``git`` with an argument list.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ralph.errors import GitError, StoreError

__all__ = ["Commit", "GitRepo", "find_root"]


def find_root(start: Path) -> Path:
    """The work-tree root: the nearest directory at or above ``start`` holding ``.git``."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    raise StoreError(f"not a git repository: {start}")


@dataclass(frozen=True, slots=True)
class Commit:
    hash: str
    author: str
    message: str
    timestamp: int


class GitRepo:
    """Git queries against one work tree."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._user: str | None = None
        self._short = ("", "")

    def run(self, *args: str, check: bool = True) -> str:
        import subprocess

        try:
            done = subprocess.run(
                ["git", "-C", str(self.root), *args],
                capture_output=True,
                text=True,
                errors="replace",
                check=False,
            )
        except FileNotFoundError as err:
            raise GitError("git is not installed") from err
        if check and done.returncode != 0:
            detail = done.stderr.strip().splitlines()[-1:] or ["failed"]
            raise GitError(f"git {args[0]}: {detail[0]}")
        return done.stdout if done.returncode == 0 else ""

    def _git_dir(self) -> Path:
        dot = self.root / ".git"
        if dot.is_file():
            text = dot.read_text(encoding="utf-8").strip()
            if text.startswith("gitdir:"):
                target = Path(text.split(":", 1)[1].strip())
                return target if target.is_absolute() else (self.root / target).resolve()
        return dot

    def branch(self) -> str | None:
        """The checked-out branch, or None on a detached HEAD."""
        try:
            head = (self._git_dir() / "HEAD").read_text(encoding="utf-8").strip()
        except OSError:
            name = self.run("rev-parse", "--abbrev-ref", "HEAD").strip()
            return None if name == "HEAD" else name
        if head.startswith("ref: refs/heads/"):
            return head.removeprefix("ref: refs/heads/")
        return None

    def head_commit(self) -> str:
        """Full HEAD hash read from the ref files (git only as a fallback); "" before the first commit."""
        git_dir = self._git_dir()
        try:
            head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
            if not head.startswith("ref: "):
                return head
            ref = head[5:]
            common = git_dir
            if (git_dir / "commondir").is_file():
                common = (git_dir / (git_dir / "commondir").read_text(encoding="utf-8").strip()).resolve()
            for folder in (git_dir, common):
                if (folder / ref).is_file():
                    return (folder / ref).read_text(encoding="utf-8").strip()
            for line in (common / "packed-refs").read_text(encoding="utf-8").splitlines():
                if line.endswith(" " + ref):
                    return line.split()[0]
        except OSError:
            pass
        return self.run("rev-parse", "HEAD", check=False).strip()

    def short_head(self) -> str:
        """Abbreviated HEAD hash, or "" before the first commit; git is asked once per HEAD commit (read
        from the ref files), not on every done/accept/reject."""
        full = self.head_commit()
        if full and self._short[0] == full:
            return self._short[1]
        short = self.run("rev-parse", "--short", "HEAD", check=False).strip()
        if full and full.startswith(short):
            self._short = (full, short)
        return short

    def user_name(self) -> str:
        """``git config user.name``, read from the config files when they are plain (no includes, no
        GIT_CONFIG_* overrides), so the hot ``task add`` path starts no process."""
        if self._user is None:
            found = self._config_user_name()
            self._user = found if found is not None else self.run("config", "user.name", check=False).strip()
        return self._user

    def _config_user_name(self) -> str | None:
        if any(k.startswith("GIT_CONFIG") and k != "GIT_CONFIG_NOSYSTEM" for k in os.environ):
            return None
        home = Path(os.environ.get("HOME", "~")).expanduser()
        xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
        git_dir = self._git_dir()
        common = git_dir / "commondir"
        local = (git_dir / common.read_text().strip()).resolve() if common.is_file() else git_dir
        name: str | None = None
        for path in (xdg / "git" / "config", home / ".gitconfig", local / "config"):
            try:
                text = path.read_text(encoding="utf-8")
            except OSError:
                continue
            if "[include" in text.lower():
                return None
            name = _user_name_in(text) or name
        return name

    def branch_exists(self, name: str) -> bool:
        return bool(self.run("rev-parse", "--verify", "-q", f"refs/heads/{name}", check=False).strip())

    def show(self, rev: str, relpath: str) -> str | None:
        """File content at ``rev``, or None when it does not exist there."""
        import subprocess

        done = subprocess.run(
            ["git", "-C", str(self.root), "show", f"{rev}:{relpath}"], capture_output=True, check=False
        )
        return done.stdout.decode("utf-8", errors="replace") if done.returncode == 0 else None

    def history(self, relpath: str, revs: list[str]) -> list[tuple[str, int]]:
        """(hash, commit time) of commits touching ``relpath`` reachable from ``revs``, oldest first."""
        out = self.run("log", "--reverse", "--format=%H %ct", *revs, "--", relpath, check=False)
        pairs = [line.split() for line in out.splitlines() if line.strip()]
        return [(p[0], int(p[1])) for p in pairs if len(p) == 2]

    def snapshots(self, relpath: str, hashes: list[str]) -> list[str]:
        """Content of ``relpath`` at each commit, fetched through one ``git cat-file --batch``."""
        if not hashes:
            return []
        import subprocess

        request = "".join(f"{h}:{relpath}\n" for h in hashes).encode()
        done = subprocess.run(
            ["git", "-C", str(self.root), "cat-file", "--batch"],
            input=request,
            capture_output=True,
            check=False,
        )
        return _split_batch(done.stdout, len(hashes))

    def log(self, relpath: str, revs: list[str], limit: int, since: str | None) -> list[Commit]:
        args = ["log", f"-n{limit}", "--format=%H%x1f%an%x1f%s%x1f%ct", *revs]
        if since:
            args.append(f"--since={since}")
        out = self.run(*args, "--", relpath, check=False)
        commits = []
        for line in out.splitlines():
            parts = line.split("\x1f")
            if len(parts) == 4:
                commits.append(Commit(parts[0], parts[1], parts[2], int(parts[3])))
        return commits


def _split_batch(data: bytes, count: int) -> list[str]:
    """Parse ``git cat-file --batch`` output: header ``<oid> <type> <size>`` then the bytes."""
    texts: list[str] = []
    pos = 0
    for _ in range(count):
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        pos = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            texts.append(data[pos : pos + size].decode("utf-8", errors="replace"))
            pos += size + 1
        else:
            texts.append("")
    return texts


_SECTION = re.compile(r"^\s*\[\s*([^\]\s\"]+)")
_NAME = re.compile(r"^\s*name\s*=\s*(.*?)\s*$", re.IGNORECASE)


def _user_name_in(text: str) -> str | None:
    """The last ``name`` under a ``[user]`` section of one git config file (plain values only)."""
    section, found = "", None
    for line in text.splitlines():
        header = _SECTION.match(line)
        if header:
            section = header.group(1).lower()
            continue
        match = _NAME.match(line) if section == "user" else None
        if match:
            value = match.group(1).split(" #")[0].split(" ;")[0].strip()
            found = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    return found
