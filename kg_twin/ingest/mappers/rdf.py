"""RDF files pass through: Turtle, N-Triples, N-Quads, RDF/XML, JSON-LD, TriG, N3.

Bulk data never goes through Python objects. The handler is a *pass-through*
(``passthrough = True``): its :meth:`RdfHandler.file_load` hands the file to the store's native
parser (``store.load(path, format=..., graph=staging, bulk=True)``) and names one SPARQL update,
:meth:`RdfHandler.alignment_update`, that adds the few alignment triples computed over the
staged graph: ``kgt:source <source>`` on every typed IRI subject (Brick models pass unchanged
otherwise; a mapping with ``align: {source_on_typed_subjects: false}`` adds none, one with
``passthrough: false`` maps the records instead).

Quad formats (TriG, N-Quads) name their own graphs; they are flattened into the one source
graph: N-Quads line by line (text, no RDF objects); TriG is first parsed by the store's native
parser in a scratch in-memory store and dumped as N-Quads.

The generic ``read`` / ``map`` contract is implemented too (records = one per file, triples via
rdflib) for small files and for callers that do not know about pass-through.

>>> RDF_HANDLER.format_of(Path("model.ttl"), b"@prefix brick: <x#> .")
'turtle'
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator, Union

from kg_twin.errors import InputError
from kg_twin.formats import RDF_FORMATS
from kg_twin.ingest.base import FileLoad, MapContext, Triple, register
from kg_twin.models import Origin, Record, Reject
from kg_twin.rdf import IRI, BNode, Literal
from kg_twin.terms import KGT

_EXT = {ext: f.name for f in RDF_FORMATS.values() for ext in f.extensions}


def _sniff_content(head: bytes) -> str | None:
    text = head[:4096].decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<?xml") or text.startswith("<rdf:RDF"):
        return "rdfxml" if "rdf:RDF" in text or "22-rdf-syntax-ns" in text else None
    if text.startswith(("{", "[")):
        return "jsonld" if "@context" in text or "@id" in text or "@graph" in text else None
    if re.search(r"^\s*(@prefix|@base|PREFIX|BASE)\b", text, re.M | re.I):
        return "trig" if re.search(r"^\s*(GRAPH\s+)?<[^>]*>\s*\{|^\s*\w*:\w*\s*\{", text, re.M) else "turtle"
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")][:5]
    if lines and all(re.match(r"^(<[^>]*>|_:\S+)\s+<[^>]*>\s+", ln) for ln in lines):
        terms = [len(re.findall(r"<[^>]*>|_:\S+|\"(?:[^\"\\]|\\.)*\"(?:\^\^<[^>]*>|@[\w-]+)?", ln)) for ln in lines]
        return "nquads" if all(t == 4 for t in terms) else "ntriples"
    return None


def _structural(path: Path) -> str | None:
    """RDF/XML or JSON-LD told by the parsed structure (root element, top-level keys), not a window."""
    from kg_twin.ingest.sniffing import json_top, xml_root

    root = xml_root(path)
    if root is not None:
        return "rdfxml" if (root.namespace, root.local) == ("http://www.w3.org/1999/02/22-rdf-syntax-ns#", "RDF") else None
    top = json_top(path)
    return "jsonld" if top.keys & {"@context", "@graph", "@id"} else None


class RdfHandler:
    """Any RDF file, passed through to the store's bulk loader."""

    name = "rdf"
    passthrough = True
    extensions = tuple(sorted(_EXT))

    def format_of(self, path: Path, head: bytes | None = None) -> str:
        ext = Path(path).suffix.lower().lstrip(".")
        if ext in _EXT and not (ext in ("xml", "json") and head is not None and _sniff_content(head) is None):
            return _EXT[ext]
        if head is None:
            with open(path, "rb") as fh:
                head = fh.read(4096)
        fmt = _sniff_content(head) or _structural(Path(path))
        if fmt is None:
            raise InputError(
                "UNKNOWN_RDF_FORMAT",
                f"{Path(path).name}: cannot tell which RDF syntax this is",
                hint="use a standard extension (.ttl .nt .nq .rdf .jsonld .trig .n3) or pass the format explicitly",
                where={"file": Path(path).name},
            )
        return fmt

    def sniff(self, path: Path, head: bytes) -> float:
        ext = Path(path).suffix.lower().lstrip(".")
        if ext in _EXT and ext not in ("xml", "json"):
            return 0.95
        return 0.8 if _sniff_content(head) or _structural(Path(path)) else 0.0

    # ---------------------------------------------------------------- fast path
    def file_load(self, path: Path, mapping: dict[str, Any], ctx: MapContext, workdir: Path) -> FileLoad | None:
        """The file as the store loads it: triple formats as they are, quad formats flattened
        to N-Triples in ``workdir`` (graph names dropped); ``None`` when the mapping turns
        pass-through off."""
        if _mapping_value(mapping, "passthrough") is False:
            return None
        path = Path(path)
        fmt = (mapping.get("source") or {}).get("format") or self.format_of(path)
        aligned = (mapping.get("align") or {}).get("source_on_typed_subjects", True)
        align = (lambda graph, into: self.alignment_update(graph, ctx, into=into)) if aligned else None
        if not RDF_FORMATS[fmt].quads:
            return FileLoad(path, fmt, ctx.source_iri, align)
        flat = Path(workdir) / (".flat-" + path.stem + ".nt")
        self.flatten(path, fmt, flat)
        return FileLoad(flat, "ntriples", None, align)

    def stage(self, store: Any, path: Path, graph: str, ctx: MapContext, *, format: str | None = None, mapping: dict[str, Any] | None = None) -> int:
        """Load ``path`` into ``graph`` (replacing it) as :meth:`file_load` says, alignment included.

        Returns the number of triples in the graph afterwards.
        """
        m = dict(mapping or {})
        m.pop("passthrough", None)
        if format:
            m["source"] = {**(m.get("source") or {}), "format": format}
        with tempfile.TemporaryDirectory() as tmp:
            load = self.file_load(path, m, ctx, Path(tmp))
            assert load is not None  # pass-through is on (popped above)
            store.drop_graphs([graph])
            store.load(load.path, format=load.format, graph=graph, bulk=True, base_iri=load.base_iri)
            if load.align is not None:
                store.update(load.align(graph, None))
        return store.graph_size(graph)

    def alignment_update(self, graph: str, ctx: MapContext, *, into: str | None = None) -> str:
        """SPARQL update adding ``kgt:source`` (this file) to every typed IRI subject of the staged
        graph that names no source yet (data exported from a twin keeps the source it names: a
        second one would break the one-source rule of the core shapes). The triples go into
        ``into`` if given, else into the staged graph itself."""
        src = IRI(ctx.source_iri).nt()
        g = IRI(graph).nt()
        out = IRI(into).nt() if into is not None else g
        return (
            f"INSERT {{ GRAPH {out} {{ ?s <{KGT}source> {src} }} }}\n"
            f"WHERE {{ SELECT DISTINCT ?s WHERE {{ GRAPH {g} {{ ?s a ?c }} FILTER(isIRI(?s)) "
            f"FILTER NOT EXISTS {{ GRAPH {g} {{ ?s <{KGT}source> ?named }} }} }} }}"
        )

    def flatten(self, path: Path, fmt: str, out: Path) -> None:
        """Write the triples of a quad file (graph names dropped) as N-Triples."""
        if fmt == "nquads":
            term = re.compile(r'\s*(<[^>]*>|_:[^\s]+|"(?:[^"\\]|\\.)*"(?:\^\^<[^>]*>|@[A-Za-z0-9-]+)?)')
            with open(path, encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
                for lineno, line in enumerate(src, start=1):
                    s = line.strip()
                    if not s or s.startswith("#"):
                        continue
                    terms, pos = [], 0
                    while len(terms) < 4:
                        m = term.match(s, pos)
                        if not m:
                            break
                        terms.append(m.group(1))
                        pos = m.end()
                    if len(terms) < 3 or not s[pos:].strip().startswith("."):
                        raise InputError("RDF_SYNTAX", f"{path.name}: line {lineno} is not an N-Quads statement", where={"file": path.name, "line": lineno})
                    dst.write(f"{terms[0]} {terms[1]} {terms[2]} .\n")
            return
        # TriG: parse with the store's native parser in a scratch in-memory store, dump N-Quads,
        # then drop the graph names as above (no RDF objects in Python)
        from kg_twin.settings import Settings
        from kg_twin.store.base import open_store

        scratch = open_store(Settings(store="memory"))
        try:
            scratch.load(path, format=fmt, graph=None, bulk=True)
            nq = out.with_suffix(".nq")
            with open(nq, "wb") as fh:
                scratch.dump(fh, format="nquads")
        finally:
            scratch.close()
        self.flatten(nq, "nquads", out)
        nq.unlink()

    # ---------------------------------------------------------------- generic contract
    def read(self, path: Path) -> Iterator[Union[Record, Reject]]:
        path = Path(path)
        with open(path, "rb") as fh:
            head = fh.read(4096)
        yield Record(kind="rdf-file", fields={"path": str(path), "format": self.format_of(path, head), "bytes": os.path.getsize(path)}, origin=Origin(file=path.name))

    def propose(self, records: list[Record], ctx: MapContext) -> dict[str, Any]:
        fmt = records[0].fields["format"] if records else None
        return {
            "version": 1,
            "handler": self.name,
            "source": {"file": ctx.source_name, "format": fmt},
            "passthrough": {"value": True, "confidence": 1.0, "why": "RDF is loaded as is by the store's bulk loader"},
            "align": {"source_on_typed_subjects": True},
        }

    def map(self, records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]:
        """Slow path (rdflib) for small files: the triples plus the alignment triples."""
        import rdflib

        src = IRI(ctx.source_iri)
        for rec in records:
            path = Path(rec.fields["path"])
            fmt = rec.fields["format"]
            ds = rdflib.Dataset()
            try:
                ds.parse(path, format=_RDFLIB_FORMAT.get(fmt, fmt), publicID=ctx.source_iri)
            except Exception as e:  # rdflib raises many parser-specific types
                yield Reject(origin=rec.origin, code="RDF_SYNTAX", reason=f"{e}")
                continue
            typed: set[str] = set()
            for s, p, o, _g in ds.quads((None, None, None, None)):
                yield (_term(s), IRI(str(p)), _term(o))
                if p == rdflib.RDF.type and isinstance(s, rdflib.URIRef):
                    typed.add(str(s))
            if (mapping.get("align") or {}).get("source_on_typed_subjects", True):
                for s in sorted(typed):
                    yield (IRI(s), IRI(KGT + "source"), src)


_RDFLIB_FORMAT = {"jsonld": "json-ld", "rdfxml": "xml"}


def _mapping_value(mapping: dict[str, Any], key: str) -> Any:
    """A mapping entry's value: proposals write ``{value: ..., confidence: ...}``, people may write the value."""
    v = mapping.get(key)
    return v.get("value") if isinstance(v, dict) else v


def _term(t: Any) -> Any:
    import rdflib

    if isinstance(t, rdflib.URIRef):
        return IRI(str(t))
    if isinstance(t, rdflib.BNode):
        return BNode(str(t))
    if isinstance(t, rdflib.Literal):
        return Literal(str(t), datatype=str(t.datatype) if t.datatype else None, lang=t.language)
    raise TypeError(type(t))


RDF_HANDLER = register(RdfHandler())
