"""What `ralph watch` draws and how: readers of a run's (or a bench's) files turned into Rich frames, redrawn
until q. Imported by the command only when it runs, so other `ralph` commands do not load Rich or bench."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console, RenderableType
from rich.live import Live

from ralph.bench.loading import CONF_NAME, TOML_NAME, load_experiment
from ralph.bench.meta import META_FILE, read_meta
from ralph.cli.views import bench_view, run_view
from ralph.errors import UsageError
from ralph.loop.session import root_of
from ralph.settings import load_settings
from ralph.watch import BenchReader, CellSource, KeyReader, RunReader, build_frame

__all__ = ["bench_render", "live", "make_console", "run_render"]

Render = Callable[[int], RenderableType]
_CHROME_LINES = 19
_ONCE_ACTIVITY = 12
_QUIT_KEYS = frozenset("qQ")


def make_console() -> Console:
    return Console() if sys.stdout.isatty() else Console(width=120)


def run_render(repo: Path, log_dir: Path | None) -> tuple[Render, Callable[[], None]]:
    root = root_of(repo.resolve())
    if not (root / ".tix").is_dir():
        raise UsageError(f"no ticket store in {root} (run `ralph init` and `ralph plan` first)")
    reader = RunReader(root, log_dir=log_dir, default_log_dir=Path(load_settings(root).log_dir))

    def render(height: int) -> RenderableType:
        frame = build_frame(reader.read(), time.time())
        room = height - _CHROME_LINES - (len(frame.kills) + 3 if frame.kills else 0)
        return run_view(frame, activity_lines=max(3, room) if height else _ONCE_ACTIVITY)

    return render, reader.close


def _cells(folder: Path) -> tuple[str, list[CellSource], Path]:
    """The cells of an experiment folder (or of its results folder), else of a bare results folder."""
    folder = folder.resolve()
    for candidate in (folder, folder.parent):
        if (candidate / TOML_NAME).is_file() or (candidate / CONF_NAME).is_file():
            exp = load_experiment(candidate)
            if candidate == folder or exp.results_dir.resolve() == folder:
                cells = [CellSource(c.name, c.worktree, c.results) for c in exp.cells()]
                return f"experiment {exp.name}", cells, exp.log_dir
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such experiment or results folder")
    cells = [cell for path in sorted(folder.iterdir()) if (cell := _results_cell(path)) is not None]
    if not cells:
        raise UsageError(
            f"{folder}: no {TOML_NAME}, {CONF_NAME} or bench cells ({META_FILE}, runs.jsonl) here"
        )
    return f"results {folder}", cells, folder


def _results_cell(path: Path) -> CellSource | None:
    """A results/<cell> folder: its worktree from the bench's meta file, else its collected ledger only."""
    meta = read_meta(path) if path.is_dir() else None
    if meta is not None:
        return CellSource(path.name, Path(meta.worktree) if meta.worktree else None, path)
    return CellSource(path.name, None, path) if (path / "runs.jsonl").is_file() else None


def bench_render(folder: Path, log_dir: Path | None) -> tuple[Render, Callable[[], None]]:
    title, cells, exp_log_dir = _cells(folder)
    reader = BenchReader(cells, default_log_dir=log_dir or exp_log_dir)
    return (lambda _height: bench_view(title, reader.rows(time.time()))), reader.close


def live(console: Console, render: Render, interval: float) -> None:
    """Redraw every ``interval`` seconds until q (or Ctrl-C); the terminal is restored either way."""
    with (
        KeyReader() as keys,
        Live(render(console.height), console=console, auto_refresh=False, screen=keys.interactive) as live,
    ):
        while not _QUIT_KEYS.intersection(keys.poll(interval)):
            live.update(render(console.height), refresh=True)
