"""Reader for the W3C SHACL Core test suite (tests/data/w3c-shacl/core).

Each case gives a data graph, a shapes graph and the expected ``sh:ValidationReport``.
A case passes when ``conforms`` matches and the multiset of results matches, each
result being (focus node, path, value, severity, source shape, constraint component).
``sh:resultMessage`` and ``sh:detail`` are ignored, as the suite prescribes.

Blank nodes: data, shapes and the expected report come from the same parsed
graphs, so a blank focus node / value / shape is the same rdflib node on both
sides; engines must give back the input's blank nodes (ours and pyshacl do).
Blank paths (``[ sh:inversePath ex:p ]``) are compared by structure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection

SUITE = Path(__file__).resolve().parents[1] / "data" / "w3c-shacl" / "core"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")
SH = Namespace("http://www.w3.org/ns/shacl#")


@dataclass
class Case:
    name: str  # e.g. node/minLength-001
    label: str
    data: Graph
    shapes: Graph
    expected: Graph  # graph holding the expected report
    report: object  # node of the expected report in ``expected``
    status: str


def _graph(cache: dict[str, Graph], iri: str) -> Graph:
    if iri not in cache:
        path = Path(iri.removeprefix("file://"))
        g = Graph()
        # keep literals as written ("1"^^xsd:boolean stays "1"): the suite tests lexical forms
        import rdflib

        old, rdflib.NORMALIZE_LITERALS = rdflib.NORMALIZE_LITERALS, False
        try:
            g.parse(path, format="turtle", publicID=iri)
        finally:
            rdflib.NORMALIZE_LITERALS = old
        cache[iri] = g
    return cache[iri]


def load_cases(root: Path = SUITE) -> list[Case]:
    cases: list[Case] = []
    cache: dict[str, Graph] = {}

    def walk(manifest: Path) -> None:
        iri = manifest.resolve().as_uri()
        g = _graph(cache, iri)
        m = URIRef(iri)
        for inc in g.objects(m, MF.include):
            walk(Path(str(inc).removeprefix("file://")))
        for entries in g.objects(m, MF.entries):
            for entry in Collection(g, entries):
                if (entry, RDF.type, SHT.Validate) not in g:
                    continue
                action = g.value(entry, MF.action)
                data_iri = str(g.value(action, SHT.dataGraph))
                shapes_iri = str(g.value(action, SHT.shapesGraph))
                rel = Path(str(entry).removeprefix("file://")).relative_to(root.resolve())
                cases.append(
                    Case(
                        name=str(rel),
                        label=str(g.value(entry, URIRef("http://www.w3.org/2000/01/rdf-schema#label")) or ""),
                        data=_graph(cache, data_iri),
                        shapes=_graph(cache, shapes_iri),
                        expected=g,
                        report=g.value(entry, MF.result),
                        status=str(g.value(entry, MF.status) or "").rsplit("#", 1)[-1],
                    )
                )

    walk(root / "manifest.ttl")
    return cases


def path_key(g: Graph, p) -> str:
    """Structural, blank-node-free text of a SHACL path."""
    if p is None:
        return "-"
    if isinstance(p, URIRef):
        return f"<{p}>"
    if (p, RDF.first, None) in g:
        return "(" + " / ".join(path_key(g, x) for x in Collection(g, p)) + ")"
    for pred, tag in ((SH.inversePath, "^"), (SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        v = g.value(p, pred)
        if v is not None:
            return f"{tag}{path_key(g, v)}"
    v = g.value(p, SH.alternativePath)
    if v is not None:
        return "[" + " | ".join(path_key(g, x) for x in Collection(g, v)) + "]"
    return f"?{p}"


def _norm(t):
    if isinstance(t, Literal):
        dt = str(t.datatype or "")
        return ("L", str(t), "" if dt.endswith("#string") else dt, t.language or "")
    return t


def report_results(g: Graph, report) -> tuple[bool, Counter]:
    conforms = g.value(report, SH.conforms)
    results = Counter()
    for r in g.objects(report, SH.result):
        results[
            (
                _norm(g.value(r, SH.focusNode)),
                path_key(g, g.value(r, SH.resultPath)),
                _norm(g.value(r, SH.value)),
                g.value(r, SH.resultSeverity),
                g.value(r, SH.sourceShape),
                g.value(r, SH.sourceConstraintComponent),
            )
        ] += 1
    return bool(conforms and conforms.toPython()), results


def compare(case: Case, report_graph: Graph) -> str | None:
    """None when ``report_graph`` matches the expected report, else a reason."""
    exp_conforms, exp = report_results(case.expected, case.report)
    reports = list(report_graph.subjects(RDF.type, SH.ValidationReport))
    if len(reports) != 1:
        return f"{len(reports)} sh:ValidationReport nodes"
    got_conforms, got = report_results(report_graph, reports[0])
    if got_conforms != exp_conforms:
        return f"conforms {got_conforms}, expected {exp_conforms}"
    if got != exp:
        missing = exp - got
        extra = got - exp
        return f"results differ: missing {sorted(map(str, missing))[:3]} extra {sorted(map(str, extra))[:3]}"
    return None


def shape_bnode_ok(node) -> bool:
    return isinstance(node, (URIRef, BNode, Literal))
