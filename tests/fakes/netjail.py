"""Run a command in a network namespace that has only a loopback device, with chosen ports forwarded.

    unshare -n python netjail.py --forward 43121=/tmp/x/model.sock -- opencode run ...

Inside the namespace nothing can leave the machine. Each ``PORT=UNIX_SOCKET`` pair listens on
127.0.0.1:PORT and relays every connection to the Unix socket, where the scripted model server (in the test
process, outside the namespace) answers. The relay threads live in this process, which stays the parent of
the command, so a group kill of the agent takes the relay with it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
from functools import cache


@cache
def jail_available() -> bool:
    """True when ``unshare -n`` works here (root or user namespaces) and ``ip`` can raise loopback."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip") or "/usr/sbin/ip"
    if not unshare:
        return False
    probe = subprocess.run([unshare, "-n", ip, "link", "set", "lo", "up"], capture_output=True, check=False)
    return probe.returncode == 0


def jail_prefix(forwards: dict[int, str]) -> tuple[str, ...]:
    """argv prefix that runs a command jailed with ``forwards``; empty when no jail is available."""
    if not jail_available():
        return ()
    args = [f"--forward={port}={path}" for port, path in forwards.items()]
    return ("unshare", "-n", sys.executable, __file__, *args, "--")


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _relay(listener: socket.socket, unix_path: str) -> None:
    while True:
        client, _ = listener.accept()
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(unix_path)
        except OSError:
            client.close()
            continue
        threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()


class UnixBridge:
    """Host side: a Unix socket that relays each connection to 127.0.0.1:port (a real server such as
    llama-server), so a jailed agent can reach it through ``--forward``."""

    def __init__(self, unix_path: str, port: int) -> None:
        self.unix_path = unix_path
        self._port = port
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(unix_path)
        self._listener.listen()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self._port))
            except OSError:
                client.close()
                continue
            threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()

    def close(self) -> None:
        self._listener.close()


def main(argv: list[str]) -> int:
    split = argv.index("--")
    forwards = [a.removeprefix("--forward=").split("=", 1) for a in argv[:split]]
    subprocess.run([shutil.which("ip") or "/usr/sbin/ip", "link", "set", "lo", "up"], check=True)
    for port, path in forwards:
        listener = socket.create_server(("127.0.0.1", int(port)))
        threading.Thread(target=_relay, args=(listener, path), daemon=True).start()
    return subprocess.call(argv[split + 1 :])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
