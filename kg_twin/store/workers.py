"""Query worker processes: SPARQL queries run where they can be killed.

pyoxigraph has no query timeout or cancellation, and an aggregate ignores
signals until it finishes, so every protocol query runs in a worker process
that reads a consistent read-only *snapshot* (a RocksDB checkpoint made by the
store owner after writes). When the deadline passes, the worker is killed
(freeing the CPU at once), a fresh one is started, and the caller gets
:class:`~kg_twin.errors.QueryTimeout`. Other clients keep being served by the
other workers meanwhile.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
import os
import queue
import threading
import time
from typing import Any, Callable

from kg_twin.errors import KgTwinError, QueryTimeout, UpstreamError

log = logging.getLogger(__name__)


def _worker_main(conn_in: Any, conn_out: Any) -> None:  # runs in the child process
    import pyoxigraph as ox

    from kg_twin.store.execute import run_query
    from kg_twin.store.functions import oxigraph_functions, query_context

    functions = oxigraph_functions(conn_in.recv())  # first message: the extension function table
    current_path = None
    store = None
    while True:
        try:
            task = conn_in.recv()
        except EOFError:
            return
        if task is None:
            return
        try:
            if task["snapshot"] != current_path:
                store = None
                store = ox.Store.read_only(task["snapshot"])
                current_path = task["snapshot"]
            with query_context(**(task.get("context") or {})):
                res = run_query(
                    store,
                    task["sparql"],
                    default_graphs=task["default_graphs"],
                    named_graphs=task["named_graphs"],
                    result_format=task["result_format"],
                    graph_format=task["graph_format"],
                    max_rows=task["max_rows"],
                    base_iri=task["base_iri"],
                    bindings=task["bindings"],
                    custom_functions=functions or None,
                )
            conn_out.send(("ok", res))
        except KgTwinError as e:
            conn_out.send(("error", e))
        except Exception as e:  # reported to the caller as a 502, never silently
            conn_out.send(("error", UpstreamError("QUERY_FAILED", f"query failed in worker: {type(e).__name__}: {e}")))


class _Worker:
    """A child interpreter (``python -m kg_twin.store.workers``) talking over two pipes.

    A fresh interpreter (not fork, not multiprocessing spawn) is used so that no
    RocksDB state or lock is inherited and the parent's ``__main__`` is never re-imported.
    """

    def __init__(self, functions: dict[str, Any]) -> None:
        c_read, p_write = os.pipe()  # parent -> child
        p_read, c_write = os.pipe()  # child -> parent
        env = dict(os.environ)
        pkg_root = str(Path(__file__).resolve().parents[2])  # so the child imports this very kg_twin
        env["PYTHONPATH"] = pkg_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kg_twin.store.workers", str(c_read), str(c_write)],
            pass_fds=(c_read, c_write),
            stdin=subprocess.DEVNULL,
            env=env,
            close_fds=True,
        )
        os.close(c_read)
        os.close(c_write)
        self._send = Connection(p_write, readable=False)
        self._recv = Connection(p_read, writable=False)
        self.snapshot: str | None = None
        self._send.send(functions)

    def send(self, obj: Any) -> None:
        self._send.send(obj)

    def poll(self, timeout: float) -> bool:
        return self._recv.poll(timeout)

    def recv(self) -> Any:
        return self._recv.recv()

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for c in (self._send, self._recv):
            try:
                c.close()
            except OSError:
                pass


class QueryPool:
    """A fixed number of query worker processes reading store snapshots."""

    def __init__(self, size: int, snapshot: Callable[[], str], on_release: Callable[[], None] | None = None, functions: dict[str, Any] | None = None) -> None:
        self._functions = dict(functions or {})
        self._snapshot = snapshot
        self._on_release = on_release
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        self.size = size
        self.killed = 0
        for _ in range(size):
            w = _Worker(self._functions)
            self._all.append(w)
            self._idle.put(w)

    def snapshots_in_use(self) -> set[str]:
        with self._lock:
            return {w.snapshot for w in self._all if w.snapshot}

    def _replace(self, dead: _Worker) -> None:
        with self._lock:
            if dead not in self._all:
                return  # already replaced
            self._all = [x for x in self._all if x is not dead]
        dead.kill()
        if self._closed:
            return
        w = _Worker(self._functions)
        with self._lock:
            self._all.append(w)
        self._idle.put(w)

    def _kill(self, worker: _Worker, timeout_s: float) -> QueryTimeout:
        """Stop a worker whose query ran past its deadline (a fresh one replaces it)."""
        self.killed += 1
        log.warning("query exceeded %.1f s: worker %s killed", timeout_s, worker.proc.pid)
        threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
        return QueryTimeout(
            "QUERY_TIMEOUT",
            f"query exceeded its time limit of {timeout_s:g} s and was stopped",
            hint="add LIMIT, restrict the patterns, or ask for a longer ?timeout= (up to the server limit)",
        )

    def run(self, task: dict[str, Any], timeout_s: float) -> Any:
        deadline = time.monotonic() + timeout_s
        try:
            worker = self._idle.get(timeout=max(timeout_s, 0.001))
        except queue.Empty:
            raise QueryTimeout(
                "QUERY_QUEUE_TIMEOUT",
                f"no query worker became free within {timeout_s:g} s",
                hint="the server is saturated by long queries; retry later or raise KG_TWIN_QUERY_WORKERS",
            ) from None
        task = dict(task, snapshot=self._snapshot())
        worker.snapshot = task["snapshot"]
        try:
            worker.send(task)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not worker.poll(remaining):
                raise self._kill(worker, timeout_s)
            status, payload = worker.recv()
        except (EOFError, OSError, BrokenPipeError) as e:
            threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
            raise UpstreamError("QUERY_WORKER_DIED", f"the query worker stopped unexpectedly: {e}") from None
        self._idle.put(worker)
        if self._on_release:
            self._on_release()
        if status == "error":
            raise payload
        return payload

    async def arun(self, task: dict[str, Any], timeout_s: float) -> Any:
        """Like :meth:`run`, waiting for the answer on the event loop (no thread hop)."""
        import asyncio

        try:
            worker = self._idle.get_nowait()
        except queue.Empty:
            from starlette.concurrency import run_in_threadpool

            return await run_in_threadpool(self.run, task, timeout_s)
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + timeout_s
        task = dict(task, snapshot=self._snapshot())
        worker.snapshot = task["snapshot"]
        fd = worker._recv.fileno()
        try:
            worker.send(task)
            ready: asyncio.Future[None] = loop.create_future()
            loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
            try:
                await asyncio.wait_for(ready, max(deadline - time.monotonic(), 0.001))
            except asyncio.TimeoutError:
                raise self._kill(worker, timeout_s) from None
            finally:
                loop.remove_reader(fd)
                os.set_blocking(fd, True)  # the event loop made it non-blocking; recv() reads whole messages
            status, payload = worker.recv()
        except (EOFError, OSError, BrokenPipeError) as e:
            threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
            raise UpstreamError("QUERY_WORKER_DIED", f"the query worker stopped unexpectedly: {e}") from None
        except asyncio.CancelledError:
            # cancelled (client went away) while the worker runs: it cannot be trusted to be idle
            threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
            raise
        self._idle.put(worker)
        if self._on_release:
            self._on_release()
        if status == "error":
            raise payload
        return payload

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._all)
        for w in workers:
            try:
                w.send(None)
            except (OSError, BrokenPipeError):
                pass
        for w in workers:
            try:
                w.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                w.kill()


def cpu_count() -> int:
    return os.cpu_count() or 1


if __name__ == "__main__":
    _worker_main(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
