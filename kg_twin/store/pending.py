"""Crash safety for bulk writes: every graph the bulk loader writes is marked first.

The bulk loader (:mod:`kg_twin.store.bulk`) writes outside any transaction, so a process killed in
the middle leaves part of a graph. Before it runs, the graph it writes is *marked* in a hidden
graph of the store (one transaction, flushed); the write is published and the mark removed in one
transaction (flushed again). Opening the store settles every graph still marked:

* a mark without a source: the graph did not exist before the write (a new graph, or a hidden
  staging graph) - it is **removed**, so the write left nothing;
* a mark with a source file (a graph being replaced): the graph is cleared and the file bulk-loaded
  again - the write is **finished** (the file is the redo log: the writer keeps it until it returns).
  If the file is gone, the graph is removed (its old content was already dropped).

One mechanism, one hidden graph, one recovery loop; no file next to the store.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pyoxigraph as ox

log = logging.getLogger(__name__)

STAGING_PREFIX = "urn:x-kg-twin:staging:"  # hidden graphs: never listed, never queried by clients
MARKS = ox.NamedNode(STAGING_PREFIX + "pending-loads")
_SINCE = ox.NamedNode(MARKS.value + "#since")
_SOURCE = ox.NamedNode(MARKS.value + "#source")
_FORMAT = ox.NamedNode(MARKS.value + "#format")
_BASE = ox.NamedNode(MARKS.value + "#base")


@dataclass(frozen=True)
class Redo:
    """How to redo a replacement: load ``path`` (``format``: a :mod:`kg_twin.formats` name) again."""

    path: Path
    format: str
    base_iri: str | None = None


def mark(store: ox.Store, graph: ox.NamedNode, redo: Redo | None = None) -> None:
    """Mark ``graph`` as being written (durably, before the bulk loader touches it)."""
    quads = [ox.Quad(graph, _SINCE, ox.Literal(str(time.time())), MARKS)]
    if redo is not None:
        quads += [ox.Quad(graph, _SOURCE, ox.Literal(str(redo.path.resolve())), MARKS), ox.Quad(graph, _FORMAT, ox.Literal(redo.format), MARKS)]
        if redo.base_iri:
            quads.append(ox.Quad(graph, _BASE, ox.Literal(redo.base_iri), MARKS))
    store.extend(quads)  # one transaction
    store.flush()


def unmark_sparql(graph: ox.NamedNode) -> str:
    """The SPARQL update that removes the mark: run it in the transaction that publishes the write.

    >>> unmark_sparql(ox.NamedNode("http://g/1"))
    'DELETE WHERE { GRAPH <urn:x-kg-twin:staging:pending-loads> { <http://g/1> ?p ?o } }'
    """
    return f"DELETE WHERE {{ GRAPH {MARKS} {{ {graph} ?p ?o }} }}"


def unmark(store: ox.Store, *graphs: ox.NamedNode, update: str = "", run: Callable[[str], None] | None = None) -> None:
    """Publish: run ``update`` and remove the marks in one transaction (``run``: how to run a SPARQL
    update, default ``store.update``), after the bulk-loaded data is on disk."""
    ops = [u for u in (update, *(unmark_sparql(g) for g in graphs)) if u.strip()]
    store.flush()  # the bulk-loaded data is on disk before the mark goes
    if ops:
        (run or store.update)(" ;\n".join(ops))
    store.flush()


def discard(store: ox.Store, graph: ox.NamedNode) -> None:
    """Undo a marked write that did not publish: remove the graph, then its mark."""
    if store.contains_named_graph(graph):
        store.remove_graph(graph)
    unmark(store, graph)


def recover(store: ox.Store, reload: Callable[[ox.NamedNode, Redo], None]) -> None:
    """Settle every write a crash interrupted (see the module doc); ``reload`` bulk-loads a redo."""
    for graph in {q.subject for q in store.quads_for_pattern(None, None, None, MARKS) if isinstance(q.subject, ox.NamedNode)}:
        redo = _redo_of(store, graph)
        if redo is not None and redo.path.is_file():
            log.warning("finishing the replacement of <%s> that was interrupted (from %s)", graph.value, redo.path)
            if store.contains_named_graph(graph):
                store.remove_graph(graph)
            reload(graph, redo)
            unmark(store, graph)
            continue
        if redo is not None:
            log.error("the replacement of <%s> was interrupted and its source %s is gone: the graph is removed", graph.value, redo.path)
        elif not graph.value.startswith(STAGING_PREFIX):
            log.warning("removing <%s>: its load was interrupted before it was published", graph.value)
        discard(store, graph)
    if store.contains_named_graph(MARKS):
        store.remove_graph(MARKS)
        store.flush()


def _redo_of(store: ox.Store, graph: ox.NamedNode) -> Redo | None:
    values: dict[Any, str] = {q.predicate: q.object.value for q in store.quads_for_pattern(graph, None, None, MARKS)}
    if _SOURCE not in values:
        return None
    return Redo(Path(values[_SOURCE]), values.get(_FORMAT, "ntriples"), values.get(_BASE))
