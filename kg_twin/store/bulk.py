"""The bulk loader in bounded memory, and RDF syntax errors with their position.

``pyoxigraph.Store.bulk_load`` writes straight into the store's files, outside any transaction:
fast and small in memory, but a crash in the middle leaves part of the data behind.
:mod:`kg_twin.store.pending` makes every caller of :func:`bulk_into` safe against that.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import pyoxigraph as ox

from kg_twin.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from kg_twin.store.base import Construct

BULK_BATCH = 10_000  # quads per bulk_extend call: bounds the loader's memory
# up to this size the bulk loader reads the whole input at once (~14x its size in memory, but no
# Python object per quad: ~1.5x faster); above it, the streaming batches of bulk_into
BULK_DIRECT_BYTES = 16 * 1024 * 1024
BULK_BLOCK_BYTES = 4 * 1024 * 1024  # N-Triples block per bulk_load call above that (peak ~15x a block)

_RDF_POS = re.compile(r"line (\d+)(?: column (\d+))?")


def rdf_syntax_error(e: Exception, fmt: str, name: str | None) -> InputError:
    """An :class:`InputError` naming the file, line and column of a parser error.

    >>> rdf_syntax_error(SyntaxError("bad IRI at line 3 column 7"), "turtle", "a.ttl").where
    {'file': 'a.ttl', 'line': 3, 'column': 7}
    """
    where: dict[str, Any] = {}
    m = _RDF_POS.search(str(e))
    lineno = e.lineno if isinstance(e, SyntaxError) else None
    if isinstance(lineno, int):
        # pyoxigraph sets lineno/offset; the message varies ("at line 2 between columns 17 and 19")
        where["line"] = lineno
        if isinstance(e, SyntaxError) and e.offset:
            where["column"] = e.offset
    elif m:
        where["line"] = int(m.group(1))
        if m.group(2):
            where["column"] = int(m.group(2))
    if name:
        where = {"file": name, **where}
    return InputError(
        "RDF_SYNTAX",
        f"invalid {fmt} data: {e}",
        hint=f"fix the {fmt} syntax at the given line/column (or check that the file really is {fmt})",
        where=where,
    )


def bulk_into(store: ox.Store, graph: Any, kwargs: dict[str, Any]) -> None:
    """Bulk-insert ``kwargs`` (``path`` or ``input``, ``format``, ``base_iri``) into ``graph``.

    Small inputs go through ``Store.bulk_load`` in one call; it keeps its whole input in memory
    (~14x a 50 MB N-Triples file), so bigger ones are stream-parsed and inserted in bounded
    batches (a few tens of MB). Not atomic: see :mod:`kg_twin.store.pending`.
    """
    size = os.path.getsize(kwargs["path"]) if "path" in kwargs else len(kwargs["input"]) if isinstance(kwargs.get("input"), bytes) else BULK_DIRECT_BYTES + 1
    if size <= BULK_DIRECT_BYTES:
        store.bulk_load(**kwargs, to_graph=graph)
        return
    if "path" in kwargs and kwargs["format"] == ox.RdfFormat.N_TRIPLES:
        # N-Triples is one triple per line: whole-line blocks go through the loader one by one
        try:
            with open(kwargs["path"], "rb") as fh:
                rest = b""
                while block := fh.read(BULK_BLOCK_BYTES):
                    block, rest = (rest + block).rsplit(b"\n", 1) if b"\n" in block else (b"", rest + block)
                    if block:
                        store.bulk_load(input=block + b"\n", format=kwargs["format"], base_iri=kwargs.get("base_iri"), to_graph=graph)
                if rest.strip():
                    store.bulk_load(input=rest, format=kwargs["format"], base_iri=kwargs.get("base_iri"), to_graph=graph)
        except SyntaxError:
            for _ in ox.parse(**kwargs):
                pass  # the error again, with its line in the whole file rather than in a block
            raise
        return
    batch: list[Any] = []
    for q in ox.parse(**kwargs):
        batch.append(ox.Quad(q.subject, q.predicate, q.object, graph))
        if len(batch) >= BULK_BATCH:
            store.bulk_extend(batch)
            batch = []
    if batch:
        store.bulk_extend(batch)


def instances(solutions: Iterable[Any], c: "Construct") -> Iterator[ox.Triple]:
    """The template instances of ``c`` from the solutions of ``c.select()`` (instances a
    CONSTRUCT drops, with a literal subject or an unbound term, are dropped)."""
    pos = {n: i for i, n in enumerate(c.variables())}
    plan = [tuple((pos[t[1:]], None) if t.startswith("?") else (-1, ox.NamedNode(t[1:-1])) for t in triple) for triple in c.template]
    for sol in solutions:
        row = tuple(sol)
        for (si, sc), (pi, pc), (oi, oc) in plan:
            s, p, o = sc if si < 0 else row[si], pc if pi < 0 else row[pi], oc if oi < 0 else row[oi]
            if s is None or o is None or isinstance(s, ox.Literal) or not isinstance(p, ox.NamedNode):
                continue
            yield ox.Triple(s, p, o)
