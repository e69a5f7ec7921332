"""Crash anywhere: `kill -9` the loop at seeded random moments, start it again until it finishes; after every
kill and at the end nothing is lost, and the end equals an uninterrupted run with the same sim seed."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.reliability.crashes import Outcome, Torture, outcome_of
from tests.reliability.harness import record_figure

PROFILE = "hybrid"
"""The simulated profile with the most failure paths: kills, rejections, decompositions, parked tasks."""


def _torture(
    planned_repo: Callable[..., Path], tmp_path: Path, reference: Outcome, kills: int, seed: int
) -> list[Torture]:
    """Episodes (fresh repo copies) until ``kills`` kills landed; each must end like the reference."""
    rng = random.Random(seed)
    episodes: list[Torture] = []
    while sum(t.audit.kills for t in episodes) < kills:
        n = len(episodes)
        torture = Torture(planned_repo(PROFILE, f"repo-{n}"), tmp_path / f"logs-{n}", PROFILE, rng)
        torture.run(kills - sum(t.audit.kills for t in episodes))
        assert outcome_of(torture.repo, torture.log_dir) == reference, torture.explain(reference)
        episodes.append(torture)
    record_figure(
        "crash",
        seed=seed,
        kills=sum(t.audit.kills for t in episodes),
        episodes=len(episodes),
        restarts=sum(t.restarts for t in episodes),
        attempts_in_flight=sum(t.audit.attempts_in_flight for t in episodes),
        pending_commits=sum(t.audit.pending_commits for t in episodes),
        orphans_killed=sum(t.orphans_seen for t in episodes),
        tasks_checked=sum(len(t.audit.known_tasks) for t in episodes),
        ledger_lines=sum(sum(t.audit.ledger_counts.values()) for t in episodes),
    )
    return episodes


def _check_torn_lines_reported(episode: Torture) -> None:
    reports = episode.reports
    assert any("plan.jsonl" in line for line in reports), episode.outputs
    assert any("calls.jsonl" in line for line in reports), episode.outputs


@pytest.fixture
def reference(uninterrupted: Callable[[str], Outcome]) -> Outcome:
    outcome = uninterrupted(PROFILE)
    assert outcome.exit_reason in ("complete", "no_work")
    return outcome


def test_eight_kills_lose_nothing_and_end_like_an_uninterrupted_run(
    planned_repo: Callable[..., Path], tmp_path: Path, reference: Outcome
) -> None:
    episodes = _torture(planned_repo, tmp_path, reference, kills=8, seed=8)
    _check_torn_lines_reported(episodes[0])


@pytest.mark.slow
@pytest.mark.parametrize("seed", [int(os.environ.get("RELIABILITY_CRASH_SEED", "50"))])
def test_fifty_kills_lose_nothing_and_end_like_an_uninterrupted_run(
    planned_repo: Callable[..., Path], tmp_path: Path, reference: Outcome, seed: int
) -> None:
    episodes = _torture(planned_repo, tmp_path, reference, kills=50, seed=seed)
    assert sum(t.audit.kills for t in episodes) == 50
    _check_torn_lines_reported(episodes[0])
