"""A child interpreter talking to this process over two pipes: what the query workers
(:mod:`kg_twin.store.workers`) and the job workers (:mod:`kg_twin.store.jobs`) are made of.

A fresh interpreter (``python -m MODULE READ_FD WRITE_FD``; not fork, not multiprocessing spawn) is
used so that no RocksDB state or lock is inherited and the parent's ``__main__`` is never re-imported.
The child imports this very ``kg_twin`` (its root goes first on ``PYTHONPATH``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any


class Child:
    """``python -m module`` with a pipe each way; ``first`` is the first message it receives."""

    def __init__(self, module: str, first: Any) -> None:
        c_read, p_write = os.pipe()  # parent -> child
        p_read, c_write = os.pipe()  # child -> parent
        env = dict(os.environ)
        pkg_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = pkg_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, str(c_read), str(c_write)],
            pass_fds=(c_read, c_write),
            stdin=subprocess.DEVNULL,
            env=env,
            close_fds=True,
        )
        os.close(c_read)
        os.close(c_write)
        self.send_conn = Connection(p_write, readable=False)
        self.recv_conn = Connection(p_read, writable=False)
        self.send(first)

    def send(self, obj: Any) -> None:
        self.send_conn.send(obj)

    def poll(self, timeout: float) -> bool:
        return self.recv_conn.poll(timeout)

    def recv(self) -> Any:
        return self.recv_conn.recv()

    def kill(self) -> None:
        """Kill the child (SIGKILL), reap it, close both pipes."""
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for c in (self.send_conn, self.recv_conn):
            try:
                c.close()
            except OSError:
                pass


def stop_all(children: list[Child]) -> None:
    """Ask every child to stop (``None``), give each 2 s to exit, then kill what is left and close
    the pipes."""
    for c in children:
        try:
            c.send(None)
        except (OSError, BrokenPipeError):
            pass
    for c in children:
        try:
            c.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        c.kill()
