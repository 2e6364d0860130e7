"""The bulk loader in bounded memory, and RDF syntax errors with their position.

``pyoxigraph.Store.bulk_load`` writes straight into the store's files, outside any transaction:
fast and small in memory, but a crash in the middle leaves part of the data behind.
:mod:`kg_twin.store.pending` makes every caller of :func:`bulk_into` safe against that.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable

import pyoxigraph as ox

from kg_twin.errors import InputError
from kg_twin.store import pending

if TYPE_CHECKING:  # pragma: no cover
    from kg_twin.store.base import Construct

BULK_BATCH = 10_000  # quads per bulk_extend call: bounds the loader's memory
# up to this size the bulk loader reads the whole input at once (~14x its size in memory, but no
# Python object per quad: ~1.5x faster); above it, the streaming batches of bulk_into
BULK_DIRECT_BYTES = 16 * 1024 * 1024
BULK_BLOCK_BYTES = 4 * 1024 * 1024  # N-Triples block per bulk_load call above that (peak ~15x a block)
SORT_MEMORY = "256M"  # buffer of each external sort of text_diff

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


_XSD = "http://www.w3.org/2001/XMLSchema#"


def _nt_term(tsv: str) -> str:
    """A term of a SPARQL TSV result as N-Triples: TSV writes some numbers and booleans bare."""
    if not tsv or tsv[0] in '<_"':
        return tsv
    if tsv in ("true", "false"):
        return f'"{tsv}"^^<{_XSD}boolean>'
    if "e" in tsv or "E" in tsv:
        return f'"{tsv}"^^<{_XSD}double>'
    return f'"{tsv}"^^<{_XSD}{"decimal" if "." in tsv else "integer"}>'


def tsv_instances(rows: Iterable[bytes], c: "Construct", out: IO[bytes], blank: IO[bytes]) -> int:
    """Write the template instances of ``c`` as N-Triples, from the rows of a SPARQL TSV result of
    ``c.select()`` (its header first): to ``out``, or to ``blank`` when an instance holds a blank
    node (the bulk loader gives the blank nodes of its input new identities; :func:`extend_from`
    keeps them). Instances a CONSTRUCT drops (a literal subject, an unbound term) are dropped.
    Text all the way: no term object per value (a third of the CPU of a full materialisation went
    into them). Returns the number of triples written."""
    it = iter(rows)
    header = next(it, b"").decode("utf-8").rstrip("\n").split("\t")
    pos = {h[1:]: i for i, h in enumerate(header)}
    heads = [tuple((pos[t[1:]], "") if t.startswith("?") else (-1, t) for t in triple) for triple in c.template]
    n = 0
    subjects = {t[0] for t in c.template}
    if len(subjects) == 1 and next(iter(subjects)).startswith("?") and all(p.startswith("<") and o.startswith("<") for _, p, o in c.template):
        # the common case (a class's types and tags): one subject variable, constant heads
        si = heads[0][0][0]
        glue = [""] + [f" {p} {o} .\n" for _, p, o in c.template]
        for line in it:
            s = line.decode("utf-8").rstrip("\n").split("\t")[si]
            if s.startswith("<") and not s.startswith("<<"):
                out.write(s.join(glue).encode("utf-8"))
            elif s.startswith("_:"):
                blank.write(s.join(glue).encode("utf-8"))
            else:
                continue
            n += len(glue) - 1
        return n
    for line in it:
        row = line.decode("utf-8").rstrip("\n").split("\t")
        for (si, sc), (pi, pc), (oi, oc) in heads:
            s, p, o = sc or row[si], pc or row[pi], oc or _nt_term(row[oi])
            if not s or not o or s[0] not in "<_" or s.startswith("<<") or not p.startswith("<") or p.startswith("<<"):
                continue
            (blank if s.startswith("_:") or o.startswith("_:") else out).write(f"{s} {p} {o} .\n".encode("utf-8"))
            n += 1
    return n


def extend_from(store: ox.Store, graph: Any, path: str) -> None:
    """Add the N-Triples file at ``path`` to ``graph`` keeping its blank node labels (the blank
    nodes of the store it came from), in bounded batches."""
    batch: list[Any] = []
    for t in ox.parse(path=path, format=ox.RdfFormat.N_TRIPLES):
        batch.append(ox.Quad(t.subject, t.predicate, t.object, graph))
        if len(batch) >= BULK_BATCH:
            store.bulk_extend(batch)
            batch = []
    if batch:
        store.bulk_extend(batch)


def text_diff(old: Path, new: list[Path], tmp: Path) -> tuple[Path, Path]:
    """The lines of ``old`` that no file of ``new`` holds, and the lines of ``new`` that ``old``
    does not hold, each written once (N-Triples: one triple a line), as two files in ``tmp``.
    External sorts (``sort -u``, bounded memory, temporary files in ``tmp``) and one merge pass,
    so millions of lines never become Python objects; each input is deleted once sorted (the disk
    holds about three copies of the text at the peak). The same triple written two ways (escapes)
    lands on both sides: removing then adding it is still exact."""
    env = dict(os.environ, LC_ALL="C")
    sort = ["sort", "-u", "-S", SORT_MEMORY, "-T", str(tmp)]
    old_s, new_s = tmp / "old.sorted", tmp / "new.sorted"
    subprocess.run([*sort, "-o", str(old_s), str(old)], check=True, env=env)
    old.unlink()
    subprocess.run([*sort, "-o", str(new_s), *(str(p) for p in new)], check=True, env=env)
    for p in new:
        p.unlink()
    removed, added = tmp / "removed.nt", tmp / "added.nt"
    with open(removed, "wb") as out:
        subprocess.run(["comm", "-23", str(old_s), str(new_s)], check=True, env=env, stdout=out)
    with open(added, "wb") as out:
        subprocess.run(["comm", "-13", str(old_s), str(new_s)], check=True, env=env, stdout=out)
    old_s.unlink()
    new_s.unlink()
    return removed, added


def remove_lines(store: ox.Store, graph: Any, path: Path) -> int:
    """Remove the N-Triples lines of ``path`` from ``graph``: ``DELETE DATA`` in batches for
    lines without a blank node, one removal per quad (labels kept) for the others."""
    n = 0
    batch: list[str] = []

    def flush() -> None:
        if batch:
            store.update(f"DELETE DATA {{ GRAPH {graph} {{\n{''.join(batch)}}} }}")
            batch.clear()

    with open(path, "rb") as fh:
        for raw in fh:
            n += 1
            if b"_:" in raw:
                for t in ox.parse(input=raw, format=ox.RdfFormat.N_TRIPLES):
                    store.remove(ox.Quad(t.subject, t.predicate, t.object, graph))
                continue
            batch.append(raw.decode("utf-8"))
            if len(batch) >= BULK_BATCH:
                flush()
    flush()
    return n


def split_blank(path: Path, tmp: Path) -> tuple[Path, Path]:
    """``path``'s lines without / with a blank node (a ``_:`` inside an IRI or a literal only sends
    a line to the slower, label-keeping side)."""
    plain, blank = tmp / "plain.nt", tmp / "blank-added.nt"
    with open(path, "rb") as fh, open(plain, "wb") as p, open(blank, "wb") as b:
        for line in fh:
            (b if b"_:" in line else p).write(line)
    return plain, blank


def spool_instances(constructs: Iterable["Construct"], select: Callable[[str], Any], tmp: Path) -> list[Path]:
    """The template instances of ``constructs`` as two N-Triples files in ``tmp``: without and
    with a blank node (:func:`tsv_instances`); ``select`` runs a query and returns pyoxigraph's
    solutions."""
    spool, rows, blank = tmp / "answers.nt", tmp / "rows.tsv", tmp / "blank.nt"
    with open(spool, "wb") as out, open(blank, "wb") as blank_out:
        for c in constructs:
            select(c.select()).serialize(str(rows), ox.QueryResultsFormat.TSV)
            with open(rows, "rb") as fh:
                tsv_instances(fh, c, out, blank_out)
    rows.unlink(missing_ok=True)
    return [spool, blank]


def _add(store: ox.Store, graph: Any, plain: Path, blank: Path) -> None:
    if plain.stat().st_size:
        bulk_into(store, graph, {"path": str(plain), "format": ox.RdfFormat.N_TRIPLES})
    if blank.stat().st_size:
        extend_from(store, graph, str(blank))  # the store's blank nodes, not new ones


def add_files(store: ox.Store, graph: Any, files: list[Path], *, new: bool) -> None:
    """Bulk-add the ``[plain, blank]`` files of :func:`spool_instances` to ``graph``; a ``new``
    graph is marked meanwhile (a crash leaves no graph)."""
    if not any(f.stat().st_size for f in files):
        return
    if new:
        pending.mark(store, graph)
    try:
        _add(store, graph, *files)
    except BaseException:
        if new:
            pending.discard(store, graph)
        raise
    if new:
        pending.unmark(store, graph)


def write_difference(store: ox.Store, graph: Any, new: list[Path], tmp: Path) -> None:
    """Make ``graph`` hold exactly the lines of the N-Triples files ``new`` (consumed) by writing
    only what differs from its content (dumped and compared as sorted text, :func:`text_diff`).
    The graph is marked meanwhile (:mod:`kg_twin.store.pending`): a crash, or an error here,
    leaves no graph rather than a mix of old and new."""
    old = tmp / "old.nt"
    store.dump(str(old), ox.RdfFormat.N_TRIPLES, from_graph=graph)
    removed, added = text_diff(old, new, tmp)
    pending.mark(store, graph)
    try:
        remove_lines(store, graph, removed)
        _add(store, graph, *split_blank(added, tmp))
    except BaseException:
        pending.discard(store, graph)
        raise
    pending.unmark(store, graph)
