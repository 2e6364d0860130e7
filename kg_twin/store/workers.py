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
import shutil
import sys
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
import os
import queue
import threading
import time
from typing import Any, Callable

from kg_twin.errors import KgTwinError, QueryTimeout, UpstreamError
from kg_twin.store.child import Child, stop_all
from kg_twin.store.base import QueryRequest, QueryResult

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
            task = conn_in.recv()  # (snapshot path, QueryRequest, extension function context) or None
        except EOFError:
            return
        if task is None:
            return
        snapshot, request, context = task
        try:
            if snapshot != current_path:
                store = None
                store = ox.Store.read_only(snapshot)
                current_path = snapshot
            with query_context(**context):
                res = run_query(store, request, custom_functions=functions or None)
            conn_out.send(("ok", res))
        except KgTwinError as e:
            conn_out.send(("error", e))
        except Exception as e:  # reported to the caller as a 502, never silently
            conn_out.send(("error", UpstreamError("QUERY_FAILED", f"query failed in worker: {type(e).__name__}: {e}")))


class Snapshots:
    """Read-only checkpoints of an on-disk store for the workers (``{directory}/<generation>-<id>``):
    made lazily at the first query after a write (~15 ms, hard links), removed once no worker reads
    them and a newer one exists."""

    def __init__(self, directory: Path, store: Any, write_lock: Any, generation: Callable[[], int]) -> None:
        self.directory = directory
        self._store = store
        self._write_lock = write_lock
        self._generation = generation
        self._lock = threading.Lock()
        self._gen = -1
        self._path: str | None = None
        self._last_gc: Any = None
        shutil.rmtree(directory, ignore_errors=True)  # what an earlier process left

    def current(self) -> str:
        with self._lock:
            if self._path and self._gen == self._generation():
                return self._path
            self.directory.mkdir(parents=True, exist_ok=True)
            with self._write_lock:
                gen = self._generation()
                target = self.directory / f"{gen:010d}-{uuid.uuid4().hex[:8]}"
                self._store.backup(str(target))
            self._path, self._gen = str(target), gen
            return self._path

    def collect(self, in_use: set[str]) -> None:
        """Remove the checkpoints no worker reads, except the current one."""
        key = (self._gen, frozenset(in_use))
        if key == self._last_gc:
            return  # nothing changed since the last sweep
        self._last_gc = key
        if not self.directory.exists():
            return
        keep = in_use | {self._path}
        for d in self.directory.iterdir():
            if str(d) not in keep:
                shutil.rmtree(d, ignore_errors=True)


class _Worker(Child):
    """A query worker: ``python -m kg_twin.store.workers`` (:class:`~kg_twin.store.child.Child`),
    given the extension-function table first; ``snapshot`` is the store checkpoint it has open."""

    def __init__(self, functions: dict[str, Any]) -> None:
        super().__init__("kg_twin.store.workers", functions)
        self.snapshot: str | None = None


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

    def run(self, request: QueryRequest, context: dict[str, Any], timeout_s: float) -> QueryResult:
        """Answer ``request`` in a worker; :class:`QueryTimeout` (worker killed) past ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        try:
            worker = self._idle.get(timeout=max(timeout_s, 0.001))
        except queue.Empty:
            raise QueryTimeout(
                "QUERY_QUEUE_TIMEOUT",
                f"no query worker became free within {timeout_s:g} s",
                hint="the server is saturated by long queries; retry later or raise KG_TWIN_QUERY_WORKERS",
            ) from None
        worker.snapshot = self._snapshot()
        try:
            worker.send((worker.snapshot, request, context))
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

    async def arun(self, request: QueryRequest, context: dict[str, Any], timeout_s: float) -> QueryResult:
        """Like :meth:`run`, waiting for the answer on the event loop (no thread hop)."""
        import asyncio

        try:
            worker = self._idle.get_nowait()
        except queue.Empty:
            from kg_twin.store.threads import in_thread

            return await in_thread(self.run, request, context, timeout_s)
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + timeout_s
        worker.snapshot = self._snapshot()
        fd = worker.recv_conn.fileno()
        try:
            worker.send((worker.snapshot, request, context))
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
        stop_all(workers)


def cpu_count() -> int:
    return os.cpu_count() or 1


if __name__ == "__main__":
    _worker_main(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
