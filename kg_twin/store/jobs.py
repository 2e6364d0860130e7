"""Isolated jobs: work on client text that the server must be able to stop or survive.

Queries have their worker pool (:mod:`kg_twin.store.workers`). Everything else that hands client
text to the engine's planner - SPARQL updates, SHACL-SPARQL in a validation, the check of a named
query - runs here: a *job* is a picklable module-level function ``job(store, *args)`` called in a
worker process (a fresh interpreter, ``python -m kg_twin.store.jobs``) on

* a read-only copy of the store (a RocksDB checkpoint taken under the writer lock, so it is
  consistent; ``copy="read"``), or
* a private writable copy (``copy="write"``): an update is *rehearsed* there before the server
  runs it (see :meth:`kg_twin.store.oxigraph.OxigraphStore.update`), or
* no store at all (``copy=None``: the job builds what it needs, e.g. an empty scratch store).

When the deadline passes, the worker is killed (the CPU is free at once) and a fresh one replaces
it; the caller gets :class:`~kg_twin.errors.QueryTimeout` (503) with a stable code
(``UPDATE_TIMEOUT``, ``VALIDATION_TIMEOUT``, ``QUERY_CHECK_TIMEOUT``). A native crash of the engine
costs the worker, never the server (502 ``JOB_WORKER_DIED``). The copy is removed after the job.

The store knows no feature: a job function is pickled by reference (like the SPARQL extension
function table the query workers receive), so ``kg_twin.store`` never imports the feature
modules whose jobs it runs.
"""

from __future__ import annotations

import logging
import queue
import shutil
import sys
import threading
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Callable

from kg_twin.errors import KgTwinError, QueryTimeout, UpstreamError
from kg_twin.store.child import Child, stop_all

log = logging.getLogger(__name__)

#: what a job is (its name in error codes and messages) -> (code prefix, hint on timeout)
KINDS: dict[str, tuple[str, str]] = {
    "update": ("UPDATE", "simplify the WHERE patterns (each pattern sharing a variable makes planning slower), or ask for a longer ?timeout= (up to KG_TWIN_QUERY_TIMEOUT_S)"),
    "validation": ("VALIDATION", "validate fewer graphs or simpler shapes (sh:select / sh:ask), or ask for a longer ?timeout= (up to KG_TWIN_VALIDATE_TIMEOUT_S)"),
    "query check": ("QUERY_CHECK", "simplify the query (each pattern sharing a variable makes planning slower)"),
}


STARTUP_S = 60.0  # longest a worker may take to import what a job needs


def timeout_error(kind: str, timeout_s: float) -> QueryTimeout:
    prefix, hint = KINDS.get(kind, ("JOB", "simplify the request"))
    return QueryTimeout(f"{prefix}_TIMEOUT", f"the {kind} exceeded its time limit of {timeout_s:g} s and was stopped", hint=hint)


def rehearse_update(store: Any, sparql: str, base_iri: str | None) -> None:
    """Job: run an update on the private writable copy (its effect is thrown away with the copy)."""
    store.update(sparql, base_iri=base_iri)


def _worker_main(conn_in: Any, conn_out: Any) -> None:  # runs in the child process
    # imported before the first job, not during it: what every kind of job uses
    import rdflib  # noqa: F401

    from kg_twin import settings  # noqa: F401
    from kg_twin.store import oxigraph  # noqa: F401

    # first message: the SPARQL extension function table and the job functions seen so far
    # (unpickling them imports their modules); the worker is ready to take jobs quickly then
    try:
        functions, _warm = conn_in.recv()
        conn_out.send(("ready", None))
    except (EOFError, OSError):
        return  # the pool closed meanwhile
    while True:
        try:
            task = conn_in.recv()
        except EOFError:
            return
        if task is None:
            return
        if "warm" in task:
            continue  # unpickling the job functions imported their modules: nothing else to do
        conn_out.send(("started", None))  # unpickled (its modules imported): the deadline starts now
        try:
            result = _run_task(task, functions)
        except KgTwinError as e:
            conn_out.send(("error", e))
        except Exception as e:  # reported to the caller as a 502, never silently
            conn_out.send(("error", UpstreamError("JOB_FAILED", f"{task.get('kind', 'job')} failed in worker: {type(e).__name__}: {e}")))
        else:
            conn_out.send(("ok", result))


def _run_task(task: dict[str, Any], functions: dict[str, Any]) -> Any:
    from kg_twin.store.oxigraph import OxigraphStore

    store: Any = None
    try:
        if task["copy"] is not None:
            store = OxigraphStore(task["path"], read_only=task["copy"] == "read", functions=functions)
        return task["fn"](store, *task["args"])
    finally:
        # closed before the answer goes out: the caller removes the copy once it has the answer
        # (a store closing while its directory is removed can stall for a second)
        store = None


class _Worker(Child):
    """A job worker: ``python -m kg_twin.store.jobs`` (:class:`~kg_twin.store.child.Child`) running
    :func:`_worker_main`, given the extension-function table and the job functions to import first."""

    def __init__(self, functions: dict[str, Any], warm: list[Callable[..., Any]] | None = None) -> None:
        super().__init__("kg_twin.store.jobs", (functions, list(warm or [])))

    def ready(self) -> bool:
        """Wait until the worker has imported what it needs (or died)."""
        try:
            return self.recv_conn.poll(STARTUP_S) and self.recv_conn.recv()[0] == "ready"
        except (EOFError, OSError):
            return False


class JobPool:
    """``size`` job workers: started in the background by :meth:`start` (or at the first job);
    one killed at its deadline is replaced in the background."""

    def __init__(self, size: int, functions: dict[str, Any] | None = None) -> None:
        self.size = max(1, size)
        self._functions = dict(functions or {})
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._all: list[_Worker] = []
        self._starting = 0
        self._warm: list[Callable[..., Any]] = []  # the job functions seen: workers import their modules early
        self._closed = False
        self.killed = 0

    def _take(self, timeout_s: float, kind: str) -> _Worker:
        """An idle worker; waits (at most ``timeout_s``, plus the time a worker takes to start when
        none is running yet) while the others run jobs."""
        self.start()
        with self._lock:
            booting = not self._all
        try:
            return self._idle.get(timeout=max(timeout_s, 0.001) + (STARTUP_S if booting else 0))
        except queue.Empty:
            prefix = KINDS.get(kind, ("JOB", ""))[0]
            raise QueryTimeout(f"{prefix}_QUEUE_TIMEOUT", f"no worker became free for the {kind} within {timeout_s:g} s", hint="the server is busy with long updates or validations; retry later") from None

    def _discard(self, w: _Worker) -> None:
        with self._lock:
            if w in self._all:
                self._all.remove(w)
        w.kill()

    def start(self) -> None:
        """Start workers in the background until there are ``size`` (a worker takes ~0.5 s to start)."""
        with self._lock:
            missing = 0 if self._closed else self.size - len(self._all) - self._starting
            self._starting += max(missing, 0)
        for _ in range(missing):
            threading.Thread(target=self._spawn, name="kgt-job-worker-start", daemon=True).start()

    def _spawn(self) -> None:
        w: _Worker | None = None
        try:
            w = _Worker(self._functions, list(self._warm))
            if not w.ready():
                log.warning("a job worker did not start (exit status %s)", w.proc.poll())
                w.kill()
                w = None
        except OSError as e:
            log.warning("could not start a job worker: %s", e)
        with self._lock:
            self._starting -= 1
            if w is not None and not self._closed:
                self._all.append(w)
                self._idle.put(w)
                return
        if w is not None:
            w.kill()

    def _warm_up(self, fn: Callable[..., Any], but: _Worker) -> None:
        """A new kind of job: the other workers import its modules now, so that a job of this kind
        does not wait for them there (importing the validation modules takes ~1.5 s)."""
        with self._lock:
            if fn in self._warm:
                return
            self._warm.append(fn)
            others = [w for w in self._all if w is not but]
        for w in others:
            try:
                w.send({"warm": [fn]})
            except OSError:
                pass  # a dying worker: replaced when a job finds out

    def run(self, fn: Callable[..., Any], args: tuple[Any, ...], *, kind: str, timeout_s: float, copy: str | None = None, path: str | None = None) -> Any:
        """Call ``fn(store, *args)`` in a worker; ``store``: an OxigraphStore on ``path`` (read-only
        when ``copy == "read"``), or None. Raises the job's error, or a 503 on the deadline."""
        w = self._take(timeout_s, kind)
        if fn not in self._warm:
            self._warm_up(fn, but=w)
        try:
            w.send({"fn": fn, "args": args, "copy": copy, "path": path, "kind": kind})
            # the deadline runs from the job's start: a fresh worker first imports the job's modules
            if not w.recv_conn.poll(STARTUP_S) or w.recv_conn.recv()[0] != "started":
                raise OSError(f"the worker did not take the job within {STARTUP_S:g} s")
            if not w.recv_conn.poll(timeout_s):
                self.killed += 1
                log.warning("%s exceeded %.1f s: job worker %s killed", kind, timeout_s, w.proc.pid)
                self._discard(w)  # synchronous: the copy is no longer open when the caller removes it
                self.start()
                raise timeout_error(kind, timeout_s)
            status, payload = w.recv_conn.recv()
        except (EOFError, OSError, BrokenPipeError) as e:
            code = w.proc.poll()
            self._discard(w)
            self.start()
            raise UpstreamError("JOB_WORKER_DIED", f"the worker running the {kind} stopped unexpectedly (exit status {code}): {e}", hint="the engine crashed on this request; nothing was written") from None
        except BaseException:
            if w in self._all:
                self._discard(w)  # e.g. interrupted while the job runs: it cannot be trusted to be idle
                self.start()
            raise
        self._idle.put(w)
        if status == "error":
            raise payload
        return payload

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._all)
            self._all = []
        stop_all(workers)


def make_copy(store: Any, directory: Path | None) -> str:
    """A RocksDB checkpoint of a pyoxigraph store (hard links: ~15 ms) in ``directory``; the caller
    holds the writer lock."""
    assert directory is not None  # on-disk stores only (internal invariant)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / uuid.uuid4().hex
    store.backup(str(target))
    return str(target)


def remove_copy(path: str | Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    _worker_main(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
