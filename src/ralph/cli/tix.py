"""The ``tix`` command: a thin Typer layer over ``TicketStore``; JSON on stdout, ``error: ...`` on stderr.

Startup matters (the loop's tools call ``tix`` often), so Typer is imported only when needed: plain
positional forms of the hot commands (``task add|done|accept|reject|fail|delete``, ``query full``,
``q TQL``) go straight to the same handler functions the Typer commands call. Anything else, including
``--help`` and every option, goes through Typer.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ralph.errors import RalphError
from ralph.tix import commands

if TYPE_CHECKING:
    import typer

    from ralph.tix import TicketStore

__all__ = ["build_app", "main"]


def _emit(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")


def _open() -> TicketStore:
    from ralph.tix import TicketStore

    return TicketStore.open(Path.cwd())


def _run(action: Callable[[TicketStore], None]) -> None:
    """Open the store, act, and report any torn-line repair on stderr."""
    store = _open()
    try:
        action(store)
    finally:
        for line in store.repairs:
            print(f"warning: {line}", file=sys.stderr)
        store.close()


_FAST: dict[tuple[str, ...], tuple[str, int, int]] = {
    ("task", "add"): ("task_add", 1, 1),
    ("task", "done"): ("task_done", 0, 1),
    ("task", "accept"): ("task_accept", 0, 2),
    ("task", "reject"): ("task_reject", 2, 2),
    ("task", "fail"): ("task_fail", 2, 3),
    ("task", "delete"): ("task_delete", 1, 1),
    ("query", "full"): ("query_full", 0, 0),
}


def _fast_path(argv: Sequence[str]) -> int | None:
    """Run a plain positional hot command without Typer; None when Typer must parse ``argv``."""
    if any(a.startswith("-") and not a.lstrip("-").replace(".", "").isdigit() for a in argv):
        return None
    structured = ("tasks", "issues", "notes", "full")
    if (len(argv) >= 2 and argv[0] == "q") or (
        len(argv) == 2 and argv[0] == "query" and argv[1] not in structured
    ):
        words = argv[1:]
        handler: Callable[[TicketStore], None] = lambda store: _tql(store, words, False)  # noqa: E731
    elif (spec := _FAST.get(tuple(argv[:2]))) and spec[1] <= len(argv) - 2 <= spec[2]:
        fn, args = getattr(commands, spec[0]), argv[2:]
        handler = lambda store: _emit(fn(store, *args))  # noqa: E731
    else:
        return None
    try:
        _run(handler)
    except RalphError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0


def main() -> None:
    argv = sys.argv[1:]
    code = _fast_path(argv)
    if code is None:
        from ralph.cli.runner import run_app

        code = run_app(build_app(), argv, prog_name="tix")
    sys.exit(code)


def build_app() -> typer.Typer:
    """The full Typer app (imported lazily; see the module docstring)."""
    import typer

    app = typer.Typer(
        name="tix",
        help="tix: git-tracked tickets (tasks, issues, notes) in .tix/plan.jsonl with a SQLite cache.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    for register in (_register_root, _register_views, _register_tasks, _register_issues, _register_notes):
        register(app)
    _register_queries(app)
    _register_history(app)
    return app


def _tql(store: TicketStore, words: Sequence[str], show_sql: bool) -> None:
    if show_sql and words and words[0] != "sql":
        print(store.sql_for(" ".join(words)))
    else:
        _emit(commands.query_tql(store, words))


def _register_root(app: typer.Typer) -> None:
    import typer

    @app.command()
    def init() -> None:
        """Create .tix/ (plan, config, .gitignore entries, merge=union attribute); safe to re-run."""
        from ralph.tix import TicketStore

        store = TicketStore.init(Path.cwd())
        print(
            "\n".join(store.init_report) if store.init_report else f"tix already initialised in {store.root}"
        )
        store.close()

    @app.command()
    def batch(source: str = typer.Argument(..., metavar="FILE|JSON")) -> None:
        """Add a JSON array of tasks, or apply a JSONL file of {"op":"add"|"delete",...} (all or nothing)."""
        from ralph.tix.batch import read_batch_source

        _run(lambda s: _emit(s.batch(read_batch_source(source))))


def _register_views(app: typer.Typer) -> None:
    import typer

    @app.command()
    def status() -> None:
        """Dashboard: branch, progress, next pending tasks, open issues."""
        from ralph.tix.text import status_text

        _run(lambda s: print(status_text(s), end=""))

    @app.command()
    def report(kind: str = typer.Argument("summary", help="summary|velocity|actors|models|labels")) -> None:
        """Progress report, or one of the TQL reports as JSON rows."""
        from ralph.tix.text import REPORTS, report_text

        if kind != "summary" and kind not in REPORTS:
            raise typer.BadParameter(f"expected summary, {', '.join(REPORTS)}", param_hint="KIND")
        _run(lambda s: print(report_text(s), end="") if kind == "summary" else _emit(s.query(REPORTS[kind])))

    @app.command()
    def tree(ticket_id: str = typer.Argument(None, metavar="[ID]")) -> None:
        """A ticket and its dependents, recursively; without ID every task that has no deps."""
        from ralph.tix.text import tree_text

        _run(lambda s: print(tree_text(s, ticket_id), end=""))

    @app.command()
    def validate() -> None:
        """Check references, cycles, tombstones and ids; exit 1 when there are errors."""
        from ralph.tix.text import validation_text

        results = []
        _run(lambda s: results.append(s.validate()))
        print(validation_text(results[0]), end="")
        if not results[0].ok:
            raise typer.Exit(1)


def _register_tasks(app: typer.Typer) -> None:
    import typer

    task = typer.Typer(
        help="Add tasks and move them through pending -> done -> accepted.", no_args_is_help=True
    )
    app.add_typer(task, name="task")

    @task.command("add")
    def add(
        payload: str = typer.Argument(..., metavar="JSON", help="an object, or an array of objects"),
    ) -> None:
        """Add one task (or a batch; deps may be "@0"/"#0"/0 or another item's "ref")."""
        _run(lambda s: _emit(commands.task_add(s, payload)))

    @task.command("done")
    def done(ticket_id: str = typer.Argument(None, metavar="[ID]")) -> None:
        """pending -> done (default: the first pending task)."""
        _run(lambda s: _emit(commands.task_done(s, ticket_id)))

    @task.command("accept")
    def accept(
        ticket_id: str = typer.Argument(None, metavar="[ID]"), reason: str = typer.Argument("")
    ) -> None:
        """done -> accepted (default: the first done task)."""
        _run(lambda s: _emit(commands.task_accept(s, ticket_id, reason)))

    @task.command("reject")
    def reject(ticket_id: str = typer.Argument(..., metavar="ID"), reason: str = typer.Argument(...)) -> None:
        """done -> pending, keeping the reason (retries += 1)."""
        _run(lambda s: _emit(commands.task_reject(s, ticket_id, reason)))

    _register_task_edits(task)


def _register_task_edits(task: typer.Typer) -> None:
    import typer

    @task.command("fail")
    def fail(
        ticket_id: str = typer.Argument(..., metavar="ID"),
        reason: str = typer.Argument(...),
        kill_reason: str = typer.Option(None, "--kill-reason", help="timeout|context|loop|..."),
    ) -> None:
        """Record a failed attempt of a pending task (kill_count += 1)."""
        _run(lambda s: _emit(commands.task_fail(s, ticket_id, reason, kill_reason)))

    @task.command("delete")
    def delete(ticket_id: str = typer.Argument(..., metavar="ID")) -> None:
        """Any ticket -> deleted (refused while others depend on it)."""
        _run(lambda s: _emit(commands.task_delete(s, ticket_id)))

    @task.command("prioritize")
    def prioritize(
        ticket_id: str = typer.Argument(..., metavar="ID"), level: str = typer.Argument(...)
    ) -> None:
        """Set priority: high|medium|low|none."""
        _run(lambda s: _emit({"id": ticket_id, "priority": s.prioritize(ticket_id, level).priority.label}))

    @task.command("update")
    def update(
        ticket_id: str = typer.Argument(..., metavar="ID"), payload: str = typer.Argument(..., metavar="JSON")
    ) -> None:
        """Merge fields; meta merges key-wise, labels replace unless "labels_add"."""
        _run(lambda s: _emit(commands.task_update(s, ticket_id, payload)))


def _register_issues(app: typer.Typer) -> None:
    import typer

    issue = typer.Typer(help="Issues found while working: add and resolve.", no_args_is_help=True)
    app.add_typer(issue, name="issue")

    @issue.command("add")
    def add(payload: str = typer.Argument(..., metavar="JSON", help='{"desc": ..., "spec"?: ...}')) -> None:
        """Add an issue."""
        _run(lambda s: _emit(commands.issue_add(s, payload)))

    @issue.command("done")
    def done(ticket_id: str = typer.Argument(None, metavar="[ID]")) -> None:
        """Resolve an issue (default: the first open one)."""
        _run(lambda s: _emit(commands.issue_done(s, ticket_id)))

    @issue.command("done-all")
    def done_all() -> None:
        """Resolve every open issue."""
        _run(lambda s: _emit({"resolved": s.resolve_all_issues()}))

    @issue.command("done-ids")
    def done_ids(ids: list[str] = typer.Argument(..., metavar="ID...")) -> None:
        """Resolve the given open issues; unknown ids are skipped."""
        _run(lambda s: _emit({"resolved": s.resolve_issues(ids)}))


def _register_notes(app: typer.Typer) -> None:
    import typer

    note = typer.Typer(help="Notes: add, list, archive.", no_args_is_help=True)
    app.add_typer(note, name="note")

    @note.command("add")
    def add(text: str = typer.Argument(...)) -> None:
        """Add a note."""
        _run(lambda s: _emit({"id": (n := s.add_note(text)).id, "text": n.name}))

    @note.command("list")
    def list_notes() -> None:
        """Open notes as JSONL-shaped objects."""
        from ralph.tix.lines import encode_ticket

        _run(lambda s: _emit([encode_ticket(n) for n in s.notes()]))

    @note.command("done")
    def done(ticket_id: str = typer.Argument(..., metavar="ID")) -> None:
        """Archive a note."""
        _run(lambda s: _emit({"id": s.note_done(ticket_id).id, "status": "archived"}))


def _register_queries(app: typer.Typer) -> None:
    import typer

    @app.command("query")
    def query(
        what: str = typer.Argument("tasks", help="tasks|issues|notes|full, or a TQL pipeline (as `q`)"),
        done: bool = typer.Option(False, "--done", help="done tasks instead of pending ones"),
        label: str = typer.Option(None, "--label"),
        spec: str = typer.Option(None, "--spec"),
        author: str = typer.Option(None, "--author"),
        priority: str = typer.Option(None, "--priority"),
    ) -> None:
        """Tickets as JSON: pending (or --done) tasks, open issues or notes, or the full state."""
        from ralph.tix.views import listing

        if what not in ("tasks", "issues", "notes", "full"):
            _run(lambda s: _tql(s, [what], False))
            return
        filters = {"label": label, "spec": spec, "author": author, "priority": priority}
        _run(lambda s: _emit(listing(s, what, done, filters)))

    @app.command("q", context_settings={"ignore_unknown_options": True})
    def tql(
        words: list[str] = typer.Argument(..., metavar="TQL|sql SQL"),
        sql: bool = typer.Option(False, "--sql", help="print the SQL instead of running it"),
    ) -> None:
        """TQL pipeline, e.g. 'tasks | label~module:* | group author | count'; 'sql SELECT ...' is raw SQL."""
        _run(lambda s: _tql(s, words, sql))

    @app.command()
    def search(words: list[str] = typer.Argument(..., metavar="QUERY")) -> None:
        """Full-text search over name, accept and notes, scored."""
        from ralph.tix.search import search_tickets

        def act(store: TicketStore) -> None:
            store.refresh()
            _emit(search_tickets(store.cache, " ".join(words)))

        _run(act)


def _register_history(app: typer.Typer) -> None:
    import typer

    @app.command()
    def log(
        all_branches: bool = typer.Option(False, "--all"),
        branch: str = typer.Option(None, "--branch"),
        since: str = typer.Option(None, "--since"),
        limit: int = typer.Option(20, "-n", "--limit", min=1),
    ) -> None:
        """Commits that touched plan.jsonl, newest first."""
        from ralph.tix.history import log_store

        _run(
            lambda s: _emit(log_store(s, branch=branch, all_branches=all_branches, since=since, limit=limit))
        )

    @app.command()
    def sync(
        branch: str = typer.Argument(None, metavar="[BRANCH]"),
        all_branches: bool = typer.Option(False, "--all"),
    ) -> None:
        """Replay the plan's git history into the cache (tickets compacted away stay known)."""
        _run(lambda s: _emit(s.sync(branch, all_branches)))

    @app.command()
    def compact() -> None:
        """Rewrite plan.jsonl without committed resolutions (temp file + rename; converges)."""
        _run(lambda s: _emit(s.compact()))
