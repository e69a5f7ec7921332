"""A scripted stand-in for `opencode run --format json`, started by Ralph's real opencode backend.

``fake_agent.py SCRIPT.json <opencode argv>``: each start takes the next turn of the script (a list, or
``{stage: list}`` with ``any`` for the rest; the last turn repeats) and speaks opencode's JSON events. A turn
can: print text (repeated to any size, in chunks or as one line), print raw bytes, spawn children (in its
group, or a ``setsid`` daemon that leaves it), ignore SIGTERM, hang, or exit with a code. Every process it
makes is written to ``pids.txt`` beside the script (``turn role pid``), and each prompt to ``prompts/``;
``@TASK@`` in a text stands for the first task id of the prompt; ``print_env`` echoes environment and prompt.
"""

from __future__ import annotations

import json
import os
import re
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


def _stage(argv: list[str]) -> str:
    """The stage from opencode's ``--title "ralph <stage>"``."""
    title = argv[argv.index("--title") + 1] if "--title" in argv else ""
    return title.removeprefix("ralph ").strip() or "any"


def _take_turn(script: Path, stage: str) -> dict[str, Any]:
    """The next turn: of this stage's list when the script maps stages to lists, else of the one list."""
    loaded = json.loads(script.read_text())
    turns: list[dict[str, Any]] = (loaded.get(stage) or loaded["any"]) if isinstance(loaded, dict) else loaded
    counter = script.with_suffix(f".{stage}.count")
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
    """``text`` repeated ``repeat`` times: one text event per ``chunk`` repetitions, or all in one line.
    Streamed, so the agent never holds the whole output."""
    unit = json.dumps(str(turn.get("text", "")))[1:-1].encode()
    repeat, chunk = int(turn.get("repeat", 1)), int(turn.get("chunk", 0))
    head = b'{"type": "text", "sessionID": "' + SESSION.encode() + b'", "part": {"type": "text", "text": "'
    per_line = chunk or repeat
    for start in range(0, repeat, per_line):
        out.write(head)
        for _ in range(min(per_line, repeat - start)):
            out.write(unit)
        out.write(b'"}}\n')


def _fill(turn: dict[str, Any], prompt: str) -> dict[str, Any]:
    """``@TASK@`` in the text becomes the first task id the prompt names (for answers that must cite it);
    ``print_env`` makes the agent print its whole environment and its prompt first (once)."""
    found = re.search(r"\bt-[0-9a-f]{8}\b", prompt)
    text = str(turn.get("text", "")).replace("@TASK@", found.group(0) if found else "t-00000000")
    echo = "".join(f"{k}={v}\n" for k, v in os.environ.items()) + prompt if turn.get("print_env") else ""
    return {**turn, "text": text, "echo": echo}


def main() -> None:
    script = Path(sys.argv[1])
    folder = script.parent
    turn = _take_turn(script, _stage(sys.argv[2:]))
    _note(folder, "agent", os.getpid())
    (folder / "prompts").mkdir(exist_ok=True)
    prompt = sys.stdin.buffer.read()
    (folder / "prompts" / f"{os.getpid()}.txt").write_bytes(prompt)
    turn = _fill(turn, prompt.decode(errors="replace"))
    if turn.get("ignore_term"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _spawn(folder, turn)
    out = sys.stdout.buffer
    out.write(_event("step_start", {"type": "step-start"}))
    if turn["echo"]:
        out.write(_event("text", {"type": "text", "text": turn["echo"]}))
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
