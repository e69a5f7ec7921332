"""Property: any sequence of legal operations replays to the same state, before and after compaction,
and compaction is a fixed point. Operations go through the same pure rules the store uses."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hypothesis import given, settings
from hypothesis import strategies as st

from ralph.errors import StoreError
from ralph.tix.history import compact_text
from ralph.tix.lines import dump_line, encode_ticket
from ralph.tix.records import Priority, TicketType
from ralph.tix.replay import Parsed, PlanState, replay_text
from ralph.tix.rules import apply_update, build_ticket, merge_telemetry
from ralph.tix.transitions import (
    accept_record,
    close_record,
    delete_ticket_record,
    done_ticket,
    fail_record,
    reject_record,
)

OPS = (
    "add",
    "issue",
    "done",
    "accept",
    "reject",
    "fail",
    "delete",
    "close",
    "update",
    "telemetry",
    "prioritize",
)


@dataclass
class Model:
    """A store without I/O: lines are produced by the rules and applied as the cache would."""

    state: PlanState = field(default_factory=PlanState)
    lines: list[str] = field(default_factory=list)
    clock: float = 1_000.0

    def emit(self, rec: dict[str, object]) -> None:
        line = dump_line(rec)
        self.lines.append(line)
        self.state.apply(Parsed(line, rec))

    def step(self, op: str, pick: int, text: str) -> None:
        self.clock += 1.5
        ids = list(self.state.tickets)
        target = self.state.tickets[ids[pick % len(ids)]] if ids else None
        now = self.clock
        if op in ("add", "issue") or target is None:
            kind = TicketType.ISSUE if op == "issue" else TicketType.TASK
            deps = (
                [t for t in ids if self.state.tickets[t].type is TicketType.TASK][-(pick % 3) :]
                if pick % 2
                else []
            )
            fields = {
                "name": text or "x",
                "deps": deps if kind is TicketType.TASK else [],
                "meta": {"k": pick},
            }
            new = build_ticket(
                kind, fields, ticket_id=f"{kind.prefix}-{len(ids):08x}", now=now, author="a", branch="b"
            )
            self.emit(encode_ticket(new, None))
        elif op == "done":
            self.emit(encode_ticket(done_ticket(target, head="abc1234", branch="b", now=now), ()))
        elif op == "accept":
            self.emit(accept_record(target, text, head="def5678", now=now))
        elif op == "reject":
            self.emit(reject_record(target, text or "no", head="def5678", now=now))
        elif op == "fail":
            self.emit(fail_record(target, text or "boom", "timeout", now=now))
        elif op == "delete":
            users = [t for t in self.state.tickets.values() if target.id in t.deps]
            self.emit(delete_ticket_record(target, users, now=now))
        elif op == "close":
            self.emit(close_record(target, TicketType.ISSUE, "resolve", now=now))
        elif op == "update":
            new, keys = apply_update(
                target, {"notes": text, "meta": {"note": text}, "labels_add": [f"l{pick}"]}, now
            )
            self.emit(encode_ticket(new, keys))
        elif op == "telemetry":
            new, keys = merge_telemetry(target, {"cost": pick / 8, "tokens_in": pick}, {"model": text}, now)
            self.emit(encode_ticket(new, keys))
        else:
            self.emit(encode_ticket(replace(target, priority=Priority(pick % 4), updated_at=now), ()))


operations = st.lists(
    st.tuples(st.sampled_from(OPS), st.integers(0, 50), st.text(max_size=6)), min_size=1, max_size=40
)


def _run(ops: list[tuple[str, int, str]]) -> Model:
    model = Model()
    for op, pick, text in ops:
        try:
            model.step(op, pick, text)
        except StoreError:
            continue
    return model


def _history(state: PlanState) -> tuple[list[object], list[object]]:
    key = lambda item: (item.time, item.id, repr(item))  # noqa: E731
    return sorted(state.tombstones, key=key), sorted(state.failures, key=key)


@settings(max_examples=150, deadline=None)
@given(operations)
def test_replay_matches_the_live_state(ops: list[tuple[str, int, str]]) -> None:
    model = _run(ops)
    replayed = replay_text("".join(model.lines))
    assert replayed.tickets == model.state.tickets
    assert _history(replayed) == _history(model.state)


@settings(max_examples=150, deadline=None)
@given(operations)
def test_compaction_keeps_state_and_converges(ops: list[tuple[str, int, str]]) -> None:
    model = _run(ops)
    text = "".join(model.lines)
    compacted, _, _ = compact_text(text, committed=set())
    after = replay_text(compacted)
    assert after.tickets == model.state.tickets
    assert _history(after) == _history(model.state)
    assert compact_text(compacted, committed=set())[0] == compacted


@settings(max_examples=100, deadline=None)
@given(operations)
def test_compaction_drops_only_committed_resolutions(ops: list[tuple[str, int, str]]) -> None:
    model = _run(ops)
    resolved = {i for i, t in model.state.tickets.items() if t.status.resolved}
    compacted, _, kept = compact_text("".join(model.lines), committed=resolved)
    after = replay_text(compacted)
    live = {i: t for i, t in model.state.tickets.items() if not t.status.resolved}
    assert {i: after.tickets[i] for i in live} == live
    referenced = {d for t in after.tickets.values() for d in t.deps}
    assert set(after.tickets) - set(live) <= referenced | set()
    assert compact_text(compacted, committed=resolved)[0] == compacted
    assert set(after.tickets) == kept
