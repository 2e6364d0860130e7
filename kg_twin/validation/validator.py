"""The project's validation functions: pick the engine, run it, build the report.

* :func:`validate_view` - core: a :class:`ShaclView` (data graphs + closure graphs) and a shapes graph.
* :func:`validate_graphs` - what the ingest pipeline and the REST API call: store + graph IRIs.
* :func:`validate_files` - the CLI without a project: data files + shape files.
* :func:`validate_rdflib` - an rdflib data graph (tests, the W3C suite), blank nodes kept.

Engines (``engine=``): ``kgtwin`` (default; SPARQL on the store, SHACL Core and SHACL-SPARQL),
``pyshacl`` (reference implementation, everything in rdflib), ``auto`` (kgtwin,
and pyshacl only for shapes the kgtwin engine refuses with an error). The summary names the
engine used for every top-level shape; nothing switches engines silently.

>>> import rdflib
>>> shapes = rdflib.Graph().parse(data='''@prefix sh: <http://www.w3.org/ns/shacl#> .
... <http://x/S> a sh:NodeShape ; sh:targetNode <http://x/a> ; sh:class <http://x/C> .''', format="turtle")
>>> out = validate_rdflib(rdflib.Graph(), shapes)
>>> out.conforms, out.summary.engines
(False, {'<http://x/S>': 'kgtwin'})
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import rdflib

from kg_twin.core import Core
from kg_twin.errors import InputError
from kg_twin.limits import DEFAULT as DEFAULT_LIMITS, Limits, check_rdf
from kg_twin.sparql.policy import check_shapes
from kg_twin.models import ValidationSummary
from kg_twin.store.base import GraphStore
from kg_twin.store.view import CLOSURE_GRAPH, DATA_GRAPH, ShaclView, from_rdflib, to_rdflib
from kg_twin.validation import engine as kg_engine
from kg_twin.validation.engine import SH, Result, ShapesGraph
from kg_twin.store.rdflib_io import parse_rdf, serialize_triples
from kg_twin.validation.report import build_report, summarize

log = logging.getLogger(__name__)

ENGINES = ("kgtwin", "pyshacl", "auto")

REPORT_FORMATS = {
    "turtle": ("text/turtle", "turtle"),
    "json-ld": ("application/ld+json", "json-ld"),
    "ntriples": ("application/n-triples", "nt"),
    "rdfxml": ("application/rdf+xml", "xml"),
}


@dataclass
class Outcome:
    """Results of one validation run, with the report graph built on demand."""

    results: list[Result]
    shapes: rdflib.Graph
    engines: dict[str, str]  # top-level shape -> engine
    elapsed_s: float
    stats: dict[str, Any] = field(default_factory=dict)
    _report: rdflib.Graph | None = None
    _summary: ValidationSummary | None = None

    @property
    def conforms(self) -> bool:
        return not self.results

    @property
    def report(self) -> rdflib.Graph:
        if self._report is None:
            self._report = build_report(self.results, self.shapes)
        return self._report

    @property
    def summary(self) -> ValidationSummary:
        if self._summary is None:
            self._summary = summarize(self.results, self.shapes, engines=self.engines, elapsed_s=self.elapsed_s)
        return self._summary

    def serialize(self, fmt: str = "turtle") -> bytes:
        """The report as Turtle / JSON-LD / N-Triples / RDF/XML, or the summary as ``json``."""
        if fmt == "json":
            return self.summary.model_dump_json(indent=2).encode()
        if fmt not in REPORT_FORMATS:
            raise InputError("BAD_FORMAT", f"unknown report format {fmt!r}", hint=f"use one of {', '.join([*REPORT_FORMATS, 'json'])}")
        if fmt == "turtle":
            out = self.report.serialize(format="turtle")  # rdflib: nested [ ] results, the shapes' prefixes
            return out.encode() if isinstance(out, str) else out
        return serialize_triples(self.report, fmt)  # literals as written, also ill-typed ones

    def result_keys(self) -> set[tuple]:
        """Comparable (focus, path, value, shape, component, severity) tuples (engine-independent)."""
        return {(str(r.focus), str(r.path) if isinstance(r.path, rdflib.URIRef) else "path", str(r.value), str(r.shape), str(r.component), str(r.severity)) for r in self.results}


def _node_key(n) -> str:
    return f"_:{n}" if isinstance(n, rdflib.BNode) else str(n)


def _reaches_refused(sg: ShapesGraph, node, seen=None) -> bool:
    seen = seen if seen is not None else set()
    if node in seen:
        return False
    seen.add(node)
    if sg.refused(node):
        return True
    g = sg.g
    refs = list(g.objects(node, SH.node)) + list(g.objects(node, SH["not"])) + list(g.objects(node, SH.property)) + list(g.objects(node, SH.qualifiedValueShape))
    for p in (SH["and"], SH["or"], SH.xone):
        for lst in g.objects(node, p):
            refs.extend(sg.list_of(lst))
    return any(_reaches_refused(sg, r, seen) for r in refs)


def _top_shapes(sg: ShapesGraph) -> list:
    g = sg.g
    out = []
    for n in sg.shape_nodes():
        has_target = any((n, p, None) in g for p in kg_engine._TARGET_PREDS)
        types = set(g.objects(n, rdflib.RDF.type))
        implicit = bool(types & {rdflib.RDFS.Class, rdflib.OWL.Class} and types & {SH.NodeShape, SH.PropertyShape})
        if has_target or implicit:
            out.append(n)
    return out


def view_to_rdflib(view: ShaclView, *, with_closure_classes: bool = True) -> rdflib.Graph:
    """Copy the data graphs into rdflib (for pyshacl), plus the closure's rdfs:subClassOf triples."""
    g = rdflib.Graph()
    for gr in view.data_graphs:
        for q in view.store.quads_for_pattern(None, None, None, gr):
            g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    if with_closure_classes:
        # pyshacl reads class hierarchies and instance types from the data graph only
        for sub, sup in view.subclass_pairs():
            g.add((to_rdflib(sub), rdflib.RDFS.subClassOf, to_rdflib(sup)))
        for ind, cls in getattr(view, "closure_types", []):
            g.add((to_rdflib(ind), rdflib.RDF.type, to_rdflib(cls)))
    return g


def _run_pyshacl(data: rdflib.Graph, shapes: rdflib.Graph, use_shapes: list | None) -> list[Result]:
    import pyshacl

    try:
        _conforms, rg, _text = pyshacl.validate(
            data, shacl_graph=shapes, inference="none", advanced=False, use_shapes=use_shapes, allow_warnings=False
        )
    except Exception as e:  # noqa: BLE001 - pyshacl/rdflib raise plain Exception for bad SHACL-SPARQL (e.g. GRAPH ?g on one graph)
        log.info("pyshacl refused the shapes: %s", e)
        raise InputError(
            "SHACL_SPARQL_FAILED",
            f"pyshacl could not evaluate the shapes: {e}",
            hint="pyshacl validates one data graph: SHACL-SPARQL with GRAPH ?g or dataset clauses cannot run there; check the sh:select / sh:ask text",
        ) from None
    out: list[Result] = []
    for rep in rg.subjects(rdflib.RDF.type, SH.ValidationReport):
        for r in rg.objects(rep, SH.result):
            shape = rg.value(r, SH.sourceShape)
            path = rg.value(r, SH.resultPath)
            if isinstance(path, rdflib.BNode):
                path = shapes.value(shape, SH.path)
            value = rg.value(r, SH.value)
            out.append(
                Result(
                    focus=from_rdflib(rg.value(r, SH.focusNode)),
                    path=path,
                    value=from_rdflib(value) if value is not None else None,
                    shape=shape,
                    component=rg.value(r, SH.sourceConstraintComponent),
                    severity=rg.value(r, SH.resultSeverity),
                    messages=list(rg.objects(r, SH.resultMessage)),
                    engine="pyshacl",
                )
            )
    return out


def validate_view(
    view: ShaclView,
    shapes: rdflib.Graph,
    *,
    engine: str = "kgtwin",
    data_rdflib: rdflib.Graph | None = None,
    pushdown: bool = True,
    allowlist: Sequence[str] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> Outcome:
    """Validate the view's data graphs against ``shapes`` with the chosen engine.

    Every SPARQL text in the shapes passes the outbound policy first (``allowlist``: endpoints
    SERVICE may call, none by default; ``limits``: size and nesting)."""
    if engine not in ENGINES:
        raise InputError("BAD_ENGINE", f"unknown SHACL engine {engine!r}", hint=f"use one of {', '.join(ENGINES)}")
    _check_shacl_sparql(shapes)  # what SHACL-SPARQL itself forbids (SERVICE among it) comes first
    check_shapes(shapes, allowlist=allowlist, limits=limits)
    t0 = time.perf_counter()
    sg = ShapesGraph(shapes)
    tops = _top_shapes(sg)
    if engine == "kgtwin":
        py_shapes: list = []
    elif engine == "pyshacl":
        py_shapes = tops
    else:
        py_shapes = [n for n in tops if _reaches_refused(sg, n)]
        if py_shapes:
            log.info("engine auto: %d shape(s) the kgtwin engine refuses run on pyshacl", len(py_shapes))
    py_set = set(py_shapes)
    if len(py_set) < len(tops) and _uses_shapes_graph(shapes):
        view.add_shapes_graph(shapes)
    results: list[Result] = []
    stats: dict[str, Any] = {}
    if len(py_set) < len(tops):
        eng = kg_engine.Engine(view, sg, shape_filter=lambda n: n not in py_set, pushdown=pushdown)
        results.extend(eng.run())
        stats["kgtwin_queries"] = view.queries
        stats["kgtwin_paths"] = dict(eng.paths)
    if py_shapes:
        data = data_rdflib if data_rdflib is not None else view_to_rdflib(view)
        results.extend(_run_pyshacl(data, shapes, None if engine == "pyshacl" else py_shapes))
    if view.ambiguous:
        # e.g. "1"^^xsd:byte and "01"^^xsd:integer are one term in the store: results on them name one form
        log.warning("%d store term(s) stand for several written literals; results on them use one written form", len(view.ambiguous))
        stats["ambiguous_literals"] = len(view.ambiguous)
    engines = {_node_key(n): ("pyshacl" if n in py_set else "kgtwin") for n in tops}
    return Outcome(results, shapes, engines, time.perf_counter() - t0, stats)


def _uses_shapes_graph(shapes: rdflib.Graph) -> bool:
    """Does a SHACL-SPARQL query of the shapes graph read ``$shapesGraph``?"""
    return any("shapesGraph" in str(o) for p in (SH.select, SH.ask) for o in shapes.objects(None, p))


def validate_rdflib(data: rdflib.Graph, shapes: rdflib.Graph, *, engine: str = "kgtwin", closure: rdflib.Graph | None = None, pushdown: bool = True) -> Outcome:
    """Validate an rdflib graph; blank nodes keep their labels, so the report names the caller's nodes."""
    view = ShaclView.from_rdflib(data)
    if closure is not None:
        view.add_rdflib(closure, CLOSURE_GRAPH)
    return validate_view(view, shapes, engine=engine, data_rdflib=data if closure is None else None, pushdown=pushdown)


SH_NS = "http://www.w3.org/ns/shacl#"


def _check_shacl_sparql(shapes: rdflib.Graph) -> None:
    """Refuse sh:select / sh:ask texts using what SHACL-SPARQL forbids in pre-bound queries
    (MINUS, VALUES, SERVICE; SHACL 5.2.1), before the outbound policy looks at them."""
    from kg_twin.validation import prebinding

    for local in ("select", "ask"):
        for _, text in shapes.subject_objects(rdflib.URIRef(SH_NS + local)):
            prebinding.check(str(text), set())


def parse_shapes(
    files: Iterable[Path | str] = (), *, texts: Iterable[tuple[bytes | str, str]] = (), base: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> rdflib.Graph:
    """Parse shape files (base: each file's ``file:`` IRI) and inline ``(text, format)`` pairs
    (base: ``base``; bounded by ``limits`` before any parser sees them) into one shapes graph;
    literals stay as written, and no remote JSON-LD context is ever fetched (pyoxigraph parses)."""
    g = rdflib.Graph()
    for f in files:
        g += parse_rdf(f)
    for text, fmt in texts:
        check_rdf(text, fmt, limits, what="shapes")
        g += parse_rdf(data=text, fmt=fmt, base=base)
    return g


def validate_files(
    data_files: Sequence[Path | str],
    shape_files: Sequence[Path | str],
    *,
    closure_files: Sequence[Path | str] = (),
    engine: str = "kgtwin",
    shapes: rdflib.Graph | None = None,
) -> Outcome:
    """Validate RDF files (no project, no server): the everyday validator's entry point."""
    view = ShaclView.empty()
    for f in data_files:
        view.load_file(f, DATA_GRAPH)
    for f in closure_files:
        view.add_closure_file(f)
    sg = shapes if shapes is not None else parse_shapes(shape_files)
    return validate_view(view, sg, engine=engine)


def validate_upload(
    data: bytes,
    shapes: rdflib.Graph,
    *,
    data_format: str = "turtle",
    base: str | None = None,
    engine: str = "kgtwin",
) -> Outcome:
    """Validate RDF text (e.g. a request body) against ``shapes``; nothing is stored.
    ``base`` resolves the data's relative IRIs (as a file's ``file:`` IRI does for files)."""
    view = ShaclView.empty()
    view.load_bytes(data, data_format, DATA_GRAPH, base_iri=base)
    return validate_view(view, shapes, engine=engine)


def validate_graphs(
    store: GraphStore,
    graphs: list[str],
    shapes: rdflib.Graph | Sequence[Path | str],
    *,
    closure_graphs: Sequence[str] = (),
    closure_files: Sequence[Path | str] | None = None,
    engine: str = "kgtwin",
    format: str = "turtle",
) -> tuple[bytes, ValidationSummary]:
    """Validate named graphs of the store (e.g. a staging graph) -> (report bytes, summary).

    ``graphs`` are the data graphs (their union is validated); ``closure_graphs`` (store graphs)
    and ``closure_files`` (default ``None``: the whole ontology bundle; ``[]``: none) give the
    class hierarchy, never validated as data. ``format``: turtle, json-ld, ntriples, rdfxml,
    or json (the summary).
    """
    out = validate_store(store, graphs, shapes, closure_graphs=closure_graphs, closure_files=closure_files, engine=engine)
    return out.serialize(format), out.summary


def validate_store(
    store: GraphStore,
    graphs: Sequence[str],
    shapes: rdflib.Graph | Sequence[Path | str],
    *,
    closure_graphs: Sequence[str] = (),
    closure_files: Sequence[Path | str] | None = None,
    engine: str = "kgtwin",
) -> Outcome:
    """Like :func:`validate_graphs` but returns the :class:`Outcome` (results, report, summary)."""
    from kg_twin.validation.shapes import closure_files as bundle_closure

    if not graphs:
        raise InputError("NO_DATA_GRAPHS", "nothing to validate: no data graphs given", hint="name at least one graph")
    view = store.view(graphs, closure_graphs)
    for f in (bundle_closure() if closure_files is None else closure_files):
        view.add_closure_file(f)
    sg = shapes if isinstance(shapes, rdflib.Graph) else parse_shapes(shapes)
    return validate_view(view, sg, engine=engine)


def validate_project(
    twin: Core,
    project: str,
    *,
    shape_files: Sequence[Path | str] = (),
    shape_sets: Sequence[str] | None = None,
    shapes_text: Sequence[tuple[bytes | str, str]] = (),
    closure_files: Sequence[Path | str] | None = None,
    engine: str = "kgtwin",
    graphs: Sequence[str] | None = None,
) -> Outcome:
    """Validate a project's visible data graphs.

    Shapes: the ones given (files, library set names, inline text), else the project's
    selection (or every library set that matches its data) plus its own ``_shapes`` graph.
    Class hierarchy: the whole ontology bundle (default) or ``closure_files``; ontology triples are never data.
    """
    from kg_twin.validation import shapes as lib

    twin.projects.get(project)
    graphs = list(graphs) if graphs is not None else list(twin.project_graphs(project, include_inferred=True))
    if not graphs:
        raise InputError("NO_DATA_GRAPHS", f"project {project!r} has no data graphs yet", hint="ingest or load data first", status=409)
    view = twin.store.view(graphs)
    for f in (closure_files if closure_files is not None else lib.closure_files()):
        view.add_closure_file(f)
    if shape_files or shape_sets or shapes_text:
        sg = lib.load_shapes(shape_sets or [], extra=shape_files)
        if shapes_text:
            sg += parse_shapes(texts=shapes_text, limits=Limits.of(twin.settings))
        names = list(shape_sets or [])
    else:
        sg, names = lib.project_shapes(twin.store, twin.naming, project, view)
    out = validate_view(view, sg, engine=engine, allowlist=twin.settings.service_allowlist, limits=Limits.of(twin.settings))
    out.stats["shape_sets"] = names
    out.stats["graphs"] = graphs
    return out
