"""The W3C SHACL test suite (core + SHACL-SPARQL) read from its files as published.

Each ``sht:Validate`` entry names a data file and a shapes file (often the entry's own file, ``<>``)
and either an expected ``sh:ValidationReport`` or ``sht:Failure`` (the validator must refuse).

Comparison, as the suite prescribes: the reports' ``sh:conforms`` must agree, and the results,
reduced to ``sh:focusNode``, ``sh:resultPath`` (with its path structure), ``sh:resultSeverity``,
``sh:sourceShape``, ``sh:sourceConstraintComponent`` and ``sh:value``, must form isomorphic graphs
(``sh:resultMessage``, ``sh:detail`` and the like are ignored). Literals keep their lexical form on
both sides (``"1"^^xsd:boolean`` is not ``true``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import rdflib
from rdflib import RDF, BNode, Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic

ROOT = Path(__file__).resolve().parents[1] / "data" / "w3c-shacl"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")
SH = Namespace("http://www.w3.org/ns/shacl#")
_KEPT = (SH.focusNode, SH.resultPath, SH.resultSeverity, SH.sourceShape, SH.sourceConstraintComponent, SH.value)


@dataclass(frozen=True)
class Entry:
    name: str  # e.g. core/node/minLength-001
    data: Path
    shapes: Path
    manifest: Path  # the file holding the expected result
    iri: str  # the entry's IRI in that file
    failure: bool  # the expected result is sht:Failure


def parse(path: Path | None = None, *, data: bytes | None = None, fmt: str = "turtle", base: str | None = None) -> Graph:
    """Parse without literal normalisation (the suite tests lexical forms)."""
    g = Graph()
    old, rdflib.NORMALIZE_LITERALS = rdflib.NORMALIZE_LITERALS, False
    try:
        if path is not None:
            g.parse(path, format=fmt, publicID=path.resolve().as_uri())
        else:
            g.parse(data=data, format=fmt, publicID=base)
    finally:
        rdflib.NORMALIZE_LITERALS = old
    return g


def entries(root: Path = ROOT) -> list[Entry]:
    out: list[Entry] = []

    def walk(manifest: Path) -> None:
        g = parse(manifest)
        m = URIRef(manifest.resolve().as_uri())
        for inc in g.objects(m, MF.include):
            walk(Path(str(inc).removeprefix("file://")))
        for lst in g.objects(m, MF.entries):
            for e in Collection(g, lst):
                if (e, RDF.type, SHT.Validate) not in g:
                    continue
                action = g.value(e, MF.action)
                result = g.value(e, MF.result)
                name = str(Path(str(e).removeprefix("file://")).relative_to(root.resolve()))
                out.append(
                    Entry(
                        name=name,
                        data=Path(str(g.value(action, SHT.dataGraph)).removeprefix("file://")),
                        shapes=Path(str(g.value(action, SHT.shapesGraph)).removeprefix("file://")),
                        manifest=manifest.resolve(),
                        iri=str(e),
                        failure=result == SHT.Failure,
                    )
                )

    walk(root / "manifest.ttl")
    return out


def _reduced(g: Graph, report) -> Graph:
    """The report with only the compared triples (plus the blank-node structure of paths)."""
    out = Graph()
    r0 = BNode("report")
    out.add((r0, RDF.type, SH.ValidationReport))
    conforms = g.value(report, SH.conforms)
    out.add((r0, SH.conforms, rdflib.Literal(bool(conforms is not None and str(conforms) in ("true", "1")))))
    for res in g.objects(report, SH.result):
        n = BNode()
        out.add((r0, SH.result, n))
        for p in _KEPT:
            for o in g.objects(res, p):
                out.add((n, p, _copy(g, o, out) if p == SH.resultPath else o))
    return out


def _copy(g: Graph, node, out: Graph):
    """A fresh copy of a path's blank-node structure (each result gets its own, as in the suite)."""
    if not isinstance(node, BNode):
        return node
    fresh = BNode()
    for p, o in g.predicate_objects(node):
        out.add((fresh, p, _copy(g, o, out)))
    return fresh


def expected_report(entry: Entry) -> Graph:
    g = parse(entry.manifest)
    return _reduced(g, g.value(URIRef(entry.iri), MF.result))


def compare(entry: Entry, got: Graph) -> str | None:
    """None when ``got`` (a parsed report) matches the expected one, else the reason."""
    reports = list(got.subjects(RDF.type, SH.ValidationReport))
    if len(reports) != 1:
        return f"{len(reports)} sh:ValidationReport nodes in the report"
    exp, ours = expected_report(entry), _reduced(got, reports[0])
    if isomorphic(exp, ours):
        return None
    return "reports differ:\nexpected:\n" + exp.serialize(format="nt") + "\ngot:\n" + ours.serialize(format="nt")
