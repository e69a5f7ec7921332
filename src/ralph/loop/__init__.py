"""The construct loop.

stages.py     Stage transition table, events, task choice (pure)
guards.py     the one policy module: limits -> exit reason; context, infra and loop decisions (pure)
exchange.py   one stage's conversation: first prompt, in-session repair retries (pure generator)
checks.py     stage-specific validation of schema-valid answers (task quality, deps by name)
reconcile.py  apply a validated answer to the TicketStore, idempotently; upsert.py: tasks by name, issues
board.py      the active spec's tickets as the state machine sees them
state.py      .tix/ralph-state.json: resume state and live fields, atomic replace
prompts/      <stage>.md templates rendered with StrictUndefined, each ending with the output contract
run.py        one run's context and its writes; agentcall.py: drive an exchange against a backend
attempt.py    BUILD (snapshot, revert) and DECOMPOSE; review.py: VERIFY and INVESTIGATE batches
precheck.py   sandboxed acceptance checks; bookkeeping.py: records, telemetry, rate-limit waits
construct.py  the driver; resume.py: start after a crash; session.py: input checks, backends, clock
plan.py       `ralph plan`; setup.py: `ralph init`; status.py: `ralph status`
signals.py    SIGINT/SIGTERM -> StopRequested in the main thread; live.py: activity log for `ralph watch`
"""

from ralph.loop.construct import ConstructOptions, RunSummary, construct
from ralph.loop.plan import PlanSummary, plan_spec

__all__ = ["ConstructOptions", "PlanSummary", "RunSummary", "construct", "plan_spec"]
