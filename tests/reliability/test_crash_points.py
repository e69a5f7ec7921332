"""Crash at a chosen write: `kill -9` right after the first plan.jsonl append holding a given record (the
moments between two store writes of one stage, which random kills only hit by luck), then run again: the
end must equal an uninterrupted run. A stage's store writes go to the file in one append, so a kill leaves
all of them or none."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.reliability.audit import CrashAudit
from tests.reliability.crashes import Outcome, differences, outcome_of
from tests.reliability.harness import finish, start_construct

PROFILE = "hybrid"
KILLER = [sys.executable, str(Path(__file__).with_name("crash_point_cli.py")), "construct"]

POINTS = {
    "reject": '"t":"reject"',
    "issue": '"t":"issue"',
    "accept": '"t":"accept"',
    "decompose": '"t":"delete"',
    "build-failure": '"t":"fail"',
    "investigate": '"created_from"',
}
"""Crash points: the first append that rejects a task (VERIFY also raises an issue with it), raises an issue,
accepts, deletes a decomposed parent, records a BUILD failure, adds an INVESTIGATE follow-up."""


@pytest.mark.parametrize("point", list(POINTS))
def test_a_kill_between_two_store_writes_ends_like_an_uninterrupted_run(
    planned_repo: Callable[..., Path],
    uninterrupted: Callable[[str], Outcome],
    tmp_path: Path,
    point: str,
) -> None:
    reference = uninterrupted(PROFILE)
    repo, log_dir = planned_repo(PROFILE), tmp_path / "logs"
    env = {"RALPH_PROFILE": PROFILE, "RALPH_LOG_DIR": str(log_dir)}
    audit = CrashAudit(repo, log_dir)
    killed = start_construct(repo, env={**env, "RALPH_TEST_KILL_AFTER": POINTS[point]}, program=KILLER)
    code, out = finish(killed)
    assert code == -9, f"the run was not killed at the {point} write (exit {code}): {out[-2000:]}"
    audit.after_kill()
    code, out = finish(start_construct(repo, env=env))
    assert code == 0, out[-3000:]
    audit.at_end()
    got = outcome_of(repo, log_dir)
    assert got == reference, differences(got, reference)
