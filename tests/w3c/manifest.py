"""Read the W3C SPARQL 1.1 test manifests (``tests/data/w3c-sparql11/data-sparql11``) as published.

``manifest-all.ttl`` lists one manifest per feature folder. We read every folder it includes except
the ones out of scope here (entailment regimes, SERVICE to remote endpoints, service description,
protocol and graph store protocol, which ``tests/protocol/test_w3c_protocol.py`` replays), and turn
each entry into an :class:`EvalCase` or a :class:`SyntaxCase`. IRIs are resolved against the
manifest's own ``file:`` IRI, as the standard runners do (the data files are named by that IRI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS

SUITE = Path(__file__).resolve().parent.parent / "data" / "w3c-sparql11" / "data-sparql11"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")

# folders of manifest-all.ttl that these replays leave out, and why (reported, not silently dropped)
OUT_OF_SCOPE = {
    "entailment": "SPARQL 1.1 entailment regimes (RDFS/OWL/RIF entailment): not offered by the endpoint",
    "service": "SERVICE to remote endpoints (example.org): needs the network",
    "service-description": "service description tests (3), not query/update evaluation",
    "protocol": "replayed over HTTP by tests/protocol/test_w3c_protocol.py",
    "graph-store-protocol": "replayed over HTTP by tests/protocol/test_w3c_protocol.py",
}

EVAL_TYPES = {MF.QueryEvaluationTest: "query", MF.UpdateEvaluationTest: "update", MF.CSVResultFormatTest: "csv"}
SYNTAX_TYPES = {
    MF.PositiveSyntaxTest11: ("query", True),
    MF.NegativeSyntaxTest11: ("query", False),
    MF.PositiveUpdateSyntaxTest11: ("update", True),
    MF.NegativeUpdateSyntaxTest11: ("update", False),
}


@dataclass(frozen=True)
class EvalCase:
    """One evaluation test. ``graph_data`` pairs a graph name with the file loaded into it."""

    id: str  # "<folder>/<fragment>", the pytest id
    kind: str  # query | update | csv
    request: Path  # the .rq / .ru file
    data: tuple[Path, ...] = ()  # files merged into the default graph
    graph_data: tuple[tuple[str, Path], ...] = ()
    result: Path | None = None  # query: expected results; update: expected default graph
    result_graph_data: tuple[tuple[str, Path], ...] = ()


@dataclass(frozen=True)
class SyntaxCase:
    id: str
    kind: str  # query | update
    positive: bool
    request: Path


@dataclass
class Suite:
    eval: list[EvalCase] = field(default_factory=list)
    syntax: list[SyntaxCase] = field(default_factory=list)
    other: list[str] = field(default_factory=list)  # entries of another test type (none expected)


def _path(node: object) -> Path:
    s = str(node)
    if not s.startswith("file://"):
        raise ValueError(f"expected a file IRI in the manifest, got {s}")
    return Path(s[len("file://") :])


def _graph_data(g: Graph, node: object, pred: URIRef, *, named_by_label: bool) -> list[tuple[str, Path]]:
    out = []
    for d in g.objects(node, pred):
        if named_by_label:  # update tests: [ ut:graph <file> ; rdfs:label "graph IRI" ]
            out.append((str(g.value(d, RDFS.label)), _path(g.value(d, UT.graph))))
        else:  # query tests: qt:graphData <file>, the graph is named by the file's IRI
            out.append((str(d), _path(d)))
    return sorted(out)


def _read_manifest(path: Path, suite: Suite) -> None:
    g = Graph().parse(path, format="turtle", publicID=path.as_uri())
    root = g.value(predicate=RDF.type, object=MF.Manifest)
    entries = g.value(root, MF.entries)
    if entries is None:
        return
    folder = path.parent.name
    for test in Collection(g, entries):
        tid = f"{folder}/{str(test).rsplit('#', 1)[-1]}"
        ttype = g.value(test, RDF.type)
        action = g.value(test, MF.action)
        if ttype in SYNTAX_TYPES:
            kind, positive = SYNTAX_TYPES[ttype]
            suite.syntax.append(SyntaxCase(tid, kind, positive, _path(action)))
        elif ttype in (MF.QueryEvaluationTest, MF.CSVResultFormatTest):
            result = g.value(test, MF.result)
            suite.eval.append(
                EvalCase(
                    tid,
                    EVAL_TYPES[ttype],
                    _path(g.value(action, QT.query)),
                    data=tuple(sorted(_path(d) for d in g.objects(action, QT.data))),
                    graph_data=tuple(_graph_data(g, action, QT.graphData, named_by_label=False)),
                    result=_path(result) if result is not None else None,
                )
            )
        elif ttype == MF.UpdateEvaluationTest:
            result = g.value(test, MF.result)
            suite.eval.append(
                EvalCase(
                    tid,
                    "update",
                    _path(g.value(action, UT.request)),
                    data=tuple(sorted(_path(d) for d in g.objects(action, UT.data))),
                    graph_data=tuple(_graph_data(g, action, UT.graphData, named_by_label=True)),
                    result=_path(g.value(result, UT.data)) if g.value(result, UT.data) is not None else None,
                    result_graph_data=tuple(_graph_data(g, result, UT.graphData, named_by_label=True)),
                )
            )
        else:
            suite.other.append(f"{tid} ({ttype})")


def load_suite(root: Path = SUITE) -> Suite:
    """Every test of ``manifest-all.ttl`` outside :data:`OUT_OF_SCOPE`, in manifest order."""
    top = root / "manifest-all.ttl"
    g = Graph().parse(top, format="turtle", publicID=top.as_uri())
    suite = Suite()
    for inc in Collection(g, g.value(g.value(predicate=RDF.type, object=MF.Manifest), MF.include)):
        manifest = _path(inc)
        if manifest.parent.name in OUT_OF_SCOPE:
            continue
        _read_manifest(manifest, suite)
    return suite


_REMOTE = re.compile(rb"\b(?:LOAD|SERVICE)\s+(?:SILENT\s+)?<(https?://[^>]*)>", re.IGNORECASE)


def needs_network(path: Path) -> str | None:
    """Why running this request would reach beyond 127.0.0.1 (LOAD / SERVICE of an absolute
    http(s) IRI on another host), or None. Such tests are skipped: tests stay on loopback."""
    for m in _REMOTE.finditer(path.read_bytes()):
        host = m.group(1).decode("utf-8", "replace").split("/")[2].split(":")[0]
        if host not in ("127.0.0.1", "localhost"):
            return f"{m.group(0).split()[0].decode().upper()} <{m.group(1).decode()}> would fetch from the network"
    return None
