"""Stand-in for an agent CLI that prints a recorded event stream: ``python replay.py FILE [ignored args]``.

It reads (and discards) stdin like the real CLI, prints FILE's lines, then exits with REPLAY_EXIT (0).
With REPLAY_HANG=1 it then waits forever, so a backend must stop it.
"""

from __future__ import annotations

import os
import sys
import time


def main() -> int:
    sys.stdin.read()
    with open(sys.argv[1], encoding="utf-8") as fh:
        for line in fh:
            sys.stdout.write(line)
            sys.stdout.flush()
    if os.environ.get("REPLAY_HANG") == "1":
        while True:
            time.sleep(1)
    return int(os.environ.get("REPLAY_EXIT", "0"))


if __name__ == "__main__":
    sys.exit(main())
