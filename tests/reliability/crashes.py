"""The crash torture: `kill -9` a simulated `ralph construct` at seeded random moments, start it again until
it finishes, audit the files after every kill, and compare the end with an uninterrupted run."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen

from tests.reliability.audit import CrashAudit, plan_tasks
from tests.reliability.harness import (
    LEDGER_FILES,
    alive,
    finish,
    json_lines,
    kill_hard,
    read_state,
    running_pid,
    start_construct,
    tagged_by,
    tree_files,
    wait_for,
)

from ralph.tix import TaskStatus

TORN_LINE = b'{"schema":1,"run_id":"torn-by-test","stage":"BUI'
"""Half a record: what a power cut in the middle of a write leaves (kill -9 cannot tear one write)."""


def _stamp(path: Path) -> tuple[int, int, int]:
    try:
        st = path.stat()
    except OSError:
        return (0, 0, 0)
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def after_writes(path: Path, count: int, proc: Popen[str], timeout_s: float) -> None:
    """Return once ``path`` changed ``count`` times (polled every millisecond), the run ended, or time ran
    out."""
    last = _stamp(path)
    deadline = time.monotonic() + timeout_s
    while count and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
        now = _stamp(path)
        if now != last:
            count, last = count - 1, now


@dataclass(frozen=True)
class Outcome:
    """What a finished run leaves: exit reason, each live task's state, and the files."""

    exit_reason: str
    tasks: dict[str, str]
    files: dict[str, str]


def outcome_of(repo: Path, log_dir: Path) -> Outcome:
    tasks, _ = plan_tasks(repo)
    states = {
        t.name: t.status.label + (" parked" if "parked" in t.labels else "")
        for t in tasks.values()
        if t.status is not TaskStatus.DELETED
    }
    ends = [r for r in json_lines(log_dir / "runs.jsonl") if r.get("record") == "end"]
    return Outcome(str(ends[-1]["exit_reason"]) if ends else "", states, tree_files(repo))


def differences(got: Outcome, expected: Outcome) -> str:
    """The exit reasons, then every task and file where ``got`` differs from ``expected``."""
    tasks = sorted(
        f"{name}: {got.tasks.get(name)} (expected {expected.tasks.get(name)})"
        for name in {*got.tasks, *expected.tasks}
        if got.tasks.get(name) != expected.tasks.get(name)
    )
    files = sorted(p for p in {*got.files, *expected.files} if got.files.get(p) != expected.files.get(p))
    return "\n".join([f"exit {got.exit_reason} (expected {expected.exit_reason})", *tasks, *files])


def run_uninterrupted(
    repo: Path, log_dir: Path, profile: str, base: Mapping[str, str] | None = None
) -> Outcome:
    """The reference: one construct to the end (in the environment ``base``, default this process's)."""
    env = {"RALPH_PROFILE": profile, "RALPH_LOG_DIR": str(log_dir)}
    proc = start_construct(repo, env=env, base=base)
    code, out = finish(proc)
    assert code == 0, out
    return outcome_of(repo, log_dir)


@dataclass
class Torture:
    """One repo worked by a construct that is killed ``kills`` times at seeded random moments."""

    repo: Path
    log_dir: Path
    profile: str
    rng: random.Random
    max_delay_s: float = 2.0
    tear_at: int | None = 2
    """After this kill, tear the last line of plan.jsonl and calls.jsonl (as a power cut would)."""
    audit: CrashAudit = field(init=False)
    outputs: list[str] = field(default_factory=list)
    kill_log: list[str] = field(default_factory=list)
    orphans: list[int] = field(default_factory=list)
    """Processes the last killed run left running (the next run must kill them first)."""
    orphans_seen: int = 0
    restarts: int = 0

    def __post_init__(self) -> None:
        self.audit = CrashAudit(self.repo, self.log_dir)

    @property
    def env(self) -> dict[str, str]:
        return {"RALPH_PROFILE": self.profile, "RALPH_LOG_DIR": str(self.log_dir)}

    def run(self, kills: int, budget_s: float = 1200.0) -> int:
        """Kill until ``kills`` kills landed or a run finished on its own; then run to the end. Returns the
        number of kills made."""
        deadline = time.monotonic() + budget_s
        made = 0
        while time.monotonic() < deadline:
            proc = start_construct(self.repo, env=self.env)
            self.restarts += 1
            if made < kills:
                killed, out = self._kill_later(proc)
            else:
                killed, out = False, finish(proc)[1]
            self.outputs.append(out)
            if not killed:
                assert proc.returncode == 0, f"run {self.restarts} after {made} kills: {out[-3000:]}"
                self.audit.at_end()
                return made
            made += 1
            self.audit.after_kill()
            if made == self.tear_at:
                self._tear()
        raise AssertionError(f"not finished within {budget_s:.0f}s ({made} kills)")

    def _kill_later(self, proc: Popen[str]) -> tuple[bool, str]:
        """Half the kills land after a random delay, half just after a random write (to the plan, the
        ledger, the state file or the branch), where one write has been made and the next not yet."""
        wait_for(lambda: running_pid(self.repo) == proc.pid or proc.poll() is not None, what="run start")
        survivors = [pid for pid in self.orphans if alive(pid)]
        assert not survivors, f"processes of the killed run still running after a restart: {survivors}"
        if self.rng.random() < 0.5:
            delay = self.rng.uniform(0.0, self.max_delay_s)
            how = f"after {delay:.2f}s"
            time.sleep(delay)
        else:
            watched, writes = self.rng.choice(self._watched()), self.rng.randint(1, 4)
            after_writes(watched, writes, proc, self.max_delay_s * 4)
            delay = self.rng.uniform(0.0, 0.03)
            how = f"{delay * 1000:.0f} ms after write {writes} to {watched.name}"
            time.sleep(delay)
        killed, out = kill_hard(proc)
        self.orphans = tagged_by(proc.pid)
        self.orphans_seen += len(self.orphans)
        state = read_state(self.repo)
        attempt = (state.get("attempt") or {}).get("task_id")
        self.kill_log.append(
            f"kill {how}: {'landed' if killed else 'missed'}; stage {state.get('stage')} "
            f"running={state.get('running')} attempt={attempt} iteration={state.get('iteration')}"
        )
        return killed, out

    def _watched(self) -> list[Path]:
        branch = self.repo / ".git" / "refs" / "heads" / "ralph" / "work"
        tix = self.repo / ".tix"
        ledger = [self.log_dir / name for name in LEDGER_FILES]
        return [tix / "plan.jsonl", tix / "ralph-state.json", branch, *ledger]

    def _tear(self) -> None:
        for path in (self.repo / ".tix" / "plan.jsonl", self.log_dir / "calls.jsonl"):
            with path.open("ab") as fh:
                fh.write(TORN_LINE)

    def explain(self, expected: Outcome) -> str:
        """Where this repo's end differs from ``expected``, and what the kills hit."""
        return "\n".join([differences(outcome_of(self.repo, self.log_dir), expected), *self.kill_log])

    @property
    def reports(self) -> list[str]:
        return [line for out in self.outputs for line in out.splitlines() if "torn" in line]
