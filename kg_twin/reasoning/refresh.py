"""Keeping inferred graphs current in a running service.

A write tells the refresher what it changed (:class:`~kg_twin.reasoning.infer.Change`):

* ``before_replace(project, graphs)`` before a graph is replaced or dropped (its old content is
  copied to a scratch graph inside the store), or ``staged(project, data, ...)`` for appended
  data; then ``twin.notify(project, change)`` after the write;
* a change of at most :attr:`InferenceRefresher.sync_limit` triples is applied before
  ``notify`` returns, so the write's response already reflects it; bigger changes are applied
  by a background thread, and the project reads as ``pending`` until then;
* a write that does not say what it changed (``notify(project)`` alone), or a change of more
  than :attr:`InferenceRefresher.bulk_limit` triples, queues a full recomputation of that
  project (:func:`~kg_twin.reasoning.infer.infer_project`: constructs bulk-loaded as they are evaluated,
  cheaper than hundreds of thousands of transactional inserts).

:meth:`InferenceRefresher.state` is what ``GET /projects/{p}`` and the ``KG-Twin-Inference``
response header report: ``current``, ``pending`` or ``failed``.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Iterable

from kg_twin.reasoning.infer import Change, InferenceStats, apply_change, discard, infer_project, snapshot, stage
from kg_twin.store.base import GraphStore
from kg_twin.terms import Naming

if TYPE_CHECKING:  # pragma: no cover
    from kg_twin.core import Core as Twin

log = logging.getLogger(__name__)

FULL = None  # a queued full recomputation


class InferenceRefresher:
    """Applies changes to inferred graphs: small ones at once, the rest in one background thread.

    Failures are logged and kept in :attr:`errors`; they never break the write that caused them.
    """

    sync_limit = 10_000  # triples: a change up to this size is inferred before the write returns
    bulk_limit = 200_000  # triples: a bigger change is applied by recomputing the project (bulk path)

    def __init__(self, store: GraphStore, naming: Naming, *, modules: Iterable[str] | None = None) -> None:
        self.store = store
        self.naming = naming
        self.modules = list(modules) if modules is not None else None
        self.last: dict[str, InferenceStats] = {}
        self.errors: dict[str, str] = {}
        self._pending: dict[str, Change | None] = {}  # project -> merged change, or FULL
        self._cond = threading.Condition()
        self._busy: str | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="kg-twin-inference", daemon=True)
        self._thread.start()

    @classmethod
    def attach(cls, twin: "Twin", **kwargs: object) -> "InferenceRefresher":
        r = cls(twin.store, twin.naming, **kwargs)  # type: ignore[arg-type]
        twin.attach_inference(r)
        return r

    # ---------------------------------------------------------- describing a change
    def before_replace(self, project: str, graphs: Iterable[str]) -> Change:
        """Call before replacing or dropping ``graphs``: their content becomes the removed side."""
        gs = [g for g in graphs]
        size = sum(self.store.graph_size(g) for g in gs if self.store.has_graph(g))
        removed = snapshot(self.store, self.naming, project, gs) if size else None
        return Change(added=gs, removed=[removed] if removed else [], triples=size)

    def staged(self, project: str, source: bytes | str | Path | IO[bytes], *, format: str, base_iri: str | None = None) -> Change:
        """Call with data that is appended to a graph: it becomes the added side."""
        g = stage(self.store, self.naming, project, source, format=format, base_iri=base_iri)
        return Change(added=[g], triples=self.store.graph_size(g))

    def discard(self, change: Change) -> None:
        """The write failed: drop the change's scratch graphs."""
        discard(self.store, change)

    # ---------------------------------------------------------- scheduling
    def schedule(self, project: str, change: Change | None = None) -> None:
        """After a write: apply ``change`` now if small, else queue it (``None``: full recomputation)."""
        if change is not None:
            # the added side is known only now (a replaced graph's new content)
            change.triples += sum(self.store.graph_size(g) for g in change.added if "/_inference/" not in g)
        if change is not None and change.triples <= self.sync_limit:
            with self._cond:
                queued = project in self._pending or self._busy == project
            if not queued:
                self._apply(project, change)
                return
        with self._cond:
            if self._closed:
                if change is not None:
                    discard(self.store, change)
                return
            if project in self._pending:
                cur = self._pending[project]
                if cur is None or change is None:
                    if cur is not None:
                        discard(self.store, cur)
                    if change is not None:
                        discard(self.store, change)
                    self._pending[project] = FULL
                else:
                    cur.merge(change)
            else:
                self._pending[project] = change
            self._cond.notify_all()

    def state(self, project: str) -> str:
        """``pending`` (a change is queued or running), ``failed`` (the last run failed) or ``current``."""
        with self._cond:
            if project in self._pending or self._busy == project:
                return "pending"
        return "failed" if project in self.errors else "current"

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is pending or running; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float = 3.0) -> None:
        """Stop taking work; wait a little for a running run (abandoned after ``timeout``)."""
        with self._cond:
            self._closed = True
            left = list(self._pending.values())
            self._pending.clear()
            self._cond.notify_all()
        for ch in left:
            if ch is not None:
                discard(self.store, ch)
        self._thread.join(timeout=timeout)
        if self._thread.is_alive():
            log.warning("inference run still going at shutdown: abandoned")

    def _apply(self, project: str, change: Change | None) -> None:
        try:
            if change is not None and change.triples > self.bulk_limit:
                # a change this big is cheaper as one bulk recomputation than as transactions
                discard(self.store, change)
                change = None
            if change is None:
                self.last[project] = infer_project(self.store, self.naming, project, modules=self.modules)
            else:
                self.last[project] = apply_change(self.store, self.naming, project, change, modules=self.modules)
            self.errors.pop(project, None)
        except Exception as e:  # a failed refresh must not break the write or kill the thread; logged and kept
            log.exception("inference failed for project %s", project)
            self.errors[project] = f"{type(e).__name__}: {e}"

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                project = next(iter(self._pending))
                change = self._pending.pop(project)
                self._busy = project
            try:
                self._apply(project, change)
            finally:
                with self._cond:
                    self._busy = None
                    self._cond.notify_all()


__all__ = ["InferenceRefresher"]
