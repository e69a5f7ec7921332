"""A scripted stand-in for `opencode run --format json`, started by Ralph's real opencode backend.

``fake_agent.py SCRIPT.json <opencode argv>``: each start takes the next turn of the script (the last one
repeats) and speaks opencode's JSON event stream. A turn can: print text (repeated to any size, in chunks or
as one line), print raw bytes, spawn children (in its group, or a ``setsid`` daemon that leaves it), ignore
SIGTERM, hang, or exit with a code. Every process it makes is written to ``pids.txt`` beside the script
(``turn role pid``), and each prompt to ``prompts/``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SESSION = "ses_fake"


def _event(kind: str, part: dict[str, Any]) -> bytes:
    return (json.dumps({"type": kind, "sessionID": SESSION, "part": part}) + "\n").encode()


def _note(folder: Path, role: str, pid: int) -> None:
    with (folder / "pids.txt").open("a") as fh:
        fh.write(f"{os.environ.get('FAKE_AGENT_TURN', '0')} {role} {pid}\n")


def _take_turn(script: Path) -> dict[str, Any]:
    turns: list[dict[str, Any]] = json.loads(script.read_text())
    counter = script.with_suffix(".count")
    used = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(used + 1))
    os.environ["FAKE_AGENT_TURN"] = str(used)
    return turns[min(used, len(turns) - 1)]


def _spawn(folder: Path, turn: dict[str, Any]) -> None:
    for _ in range(int(turn.get("children", 0))):
        child = subprocess.Popen(["sleep", "600"])
        _note(folder, "child", child.pid)
    if turn.get("daemon"):
        runner = "import os,sys,time;os.setsid();print(os.getpid(),flush=True);time.sleep(600)"
        daemon = subprocess.Popen([sys.executable, "-c", runner], stdout=subprocess.PIPE, text=True)
        assert daemon.stdout is not None
        _note(folder, "daemon", int(daemon.stdout.readline()))


def _write_text(out: Any, turn: dict[str, Any]) -> None:
    text = str(turn.get("text", "")) * int(turn.get("repeat", 1))
    chunk = int(turn.get("chunk", 0))
    pieces = [text[i : i + chunk] for i in range(0, len(text), chunk)] if chunk else [text]
    for piece in pieces:
        out.write(_event("text", {"type": "text", "text": piece}))


def main() -> None:
    script = Path(sys.argv[1])
    folder = script.parent
    turn = _take_turn(script)
    _note(folder, "agent", os.getpid())
    (folder / "prompts").mkdir(exist_ok=True)
    (folder / "prompts" / f"{os.getpid()}.txt").write_bytes(sys.stdin.buffer.read())
    if turn.get("ignore_term"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _spawn(folder, turn)
    out = sys.stdout.buffer
    out.write(_event("step_start", {"type": "step-start"}))
    _write_text(out, turn)
    if "raw" in turn:
        out.write(bytes.fromhex(turn["raw"]))
    tokens = {"input": 100, "output": 20, "reasoning": 0, "cache": {"read": 0, "write": 0}}
    out.write(_event("step_finish", {"type": "step-finish", "reason": "stop", "tokens": tokens, "cost": 0}))
    out.flush()
    if turn.get("hang"):
        time.sleep(3600)
    sys.exit(int(turn.get("exit", 0)))


if __name__ == "__main__":
    main()
