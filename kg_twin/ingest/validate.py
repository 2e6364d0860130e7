"""SHACL for the ingest pipeline: which shapes apply to a project, which engine runs them.

The pipeline validates a staged graph with :func:`validate_staged`. The engine is
``kg_twin.validation.validate_graphs`` when that package is installed (the project's SHACL
engine); otherwise pyshacl runs on the staged triples. Whichever runs is logged and
named in :attr:`ValidationSummary.engine` — there is no silent switch.

Shapes, in order:

1. files given by the caller (``--shapes FILE``);
2. the project's selection of library shape sets plus its own shapes (``kg_twin.validation.shapes``);
   without a stored selection, every library set applies (a set whose targets match nothing in
   the staged data cannot produce results, so this equals "the sets that match");
3. without the validation package: the project's own shapes graph (``{base}graph/{p}/_shapes``).

No shapes at all: the staged graph conforms trivially; the summary says so (engine ``none``).
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from kg_twin.errors import InputError, KgTwinError
from kg_twin.models import ValidationSummary
from kg_twin.terms import SH

log = logging.getLogger(__name__)

SHAPES_GRAPH_NAME = "_shapes"
CLOSURE_MODULES = ("brick-bot",)  # ontology modules whose class hierarchy validation needs


@dataclass
class Outcome:
    report: bytes  # sh:ValidationReport, N-Triples
    summary: ValidationSummary
    shapes: list[str] = field(default_factory=list)  # shape sets / files used

    @property
    def violations(self) -> int:
        return severity_count(self.summary, "Violation")

    @property
    def warnings(self) -> int:
        return severity_count(self.summary, "Warning")


def severity_count(summary: ValidationSummary, level: str) -> int:
    """Results of one severity (keys may be 'Violation', 'sh:Violation' or the full IRI)."""
    n = 0
    for k, v in (summary.by_severity or {}).items():
        if str(k).rsplit("#", 1)[-1].rsplit(":", 1)[-1] == level:
            n += int(v)
    if level == "Violation" and not summary.conforms and not summary.by_severity:
        n = max(summary.total, 1)
    return n


def _validation_package() -> Any | None:
    try:
        mod = importlib.import_module("kg_twin.validation")
    except ModuleNotFoundError as e:
        if e.name and e.name.startswith("kg_twin.validation"):
            return None
        raise
    return mod if hasattr(mod, "validate_graphs") else None


def _shapes_module() -> Any | None:
    try:
        return importlib.import_module("kg_twin.validation.shapes")
    except ModuleNotFoundError as e:
        if e.name and e.name.startswith("kg_twin.validation"):
            return None
        raise


def project_shapes(twin: Any, project: str, files: Sequence[str | Path] | None = None) -> tuple[Any, list[str]]:
    """(rdflib shapes graph, names of the sets/files used) for a project."""
    import rdflib

    g = rdflib.Graph()
    names: list[str] = []
    if files:
        for f in files:
            p = Path(f)
            if not p.is_file():
                raise InputError("SHAPES_NOT_FOUND", f"no such shapes file: {p}", where={"file": str(p)}, hint="check the --shapes path")
            try:
                g.parse(p, format=_rdf_format(p))
            except Exception as e:  # rdflib parsers raise many exception types
                raise InputError("SHAPES_SYNTAX", f"{p.name}: cannot parse shapes: {e}", where={"file": p.name}, hint="fix the Turtle of the shapes file") from None
            names.append(p.name)
        return g, names
    mod = _shapes_module()
    if mod is not None and hasattr(mod, "load_shapes"):
        sel = mod.get_project_selection(twin.store, twin.naming, project) if hasattr(mod, "get_project_selection") else None
        if sel is None:
            sel = [s.name for s in mod.list_shape_sets()]
        g += mod.load_shapes(sel)
        names.extend(sel)
        if hasattr(mod, "project_custom_shapes"):
            own = mod.project_custom_shapes(twin.store, twin.naming, project)
            if len(own):
                g += own
                names.append(f"project {project} shapes")
        return g, names
    own_iri = twin.naming.graph(project, SHAPES_GRAPH_NAME)
    if twin.store.has_graph(own_iri):
        data = twin.store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{own_iri}> {{ ?s ?p ?o }} }}")
        g.parse(data=data, format="nt")
        names.append(f"project {project} shapes")
    return g, names


def _rdf_format(p: Path) -> str:
    return {".nt": "nt", ".jsonld": "json-ld", ".json": "json-ld", ".rdf": "xml", ".xml": "xml", ".n3": "n3"}.get(p.suffix.lower(), "turtle")


def closure_graphs(store: Any, base: str) -> list[str]:
    """Ontology graphs (``{base}graph/_ontology/...``) in ``store``, loading the bundle once if absent."""
    prefix = f"{base}graph/_ontology/"
    have = [g for g in store.graphs() if g.startswith(prefix)]
    if have:
        return have
    try:
        onto = importlib.import_module("kg_twin.ontologies")
    except ModuleNotFoundError:
        log.warning("no ontology bundle (kg_twin.ontologies): validating without the class hierarchy closure")
        return []
    try:
        onto.load_into_store(store, base, list(CLOSURE_MODULES))
    except KgTwinError as e:
        log.warning("ontology closure %s not loaded (%s): validating without it", CLOSURE_MODULES, e)
        return []
    return [g for g in store.graphs() if g.startswith(prefix)]


def validate_staged(twin: Any, project: str, graphs: list[str], *, store: Any = None, shapes: Sequence[str | Path] | None = None, engine: str | None = None) -> Outcome:
    """Validate the union of ``graphs`` of ``store`` (default: the twin's store) with the project's shapes.

    The project's shapes are read from the twin's store; the ontology closure is loaded into
    ``store`` once (``{base}graph/_ontology/...``).
    """
    store = store if store is not None else twin.store
    t0 = time.perf_counter()
    sg, names = project_shapes(twin, project, shapes)
    if len(sg) == 0:
        log.info("no SHACL shapes apply to project %s: staged data conforms trivially", project)
        summary = ValidationSummary(conforms=True, engine="none", results=[f"no SHACL shapes for project {project}"], elapsed_s=0.0)
        return Outcome(report=_empty_report(), summary=summary, shapes=[])
    pkg = _validation_package()
    if pkg is not None and engine in (None, "kgtwin", "auto", "pyshacl"):
        closure = closure_graphs(store, twin.naming.base)
        kw: dict[str, Any] = {"closure_graphs": closure, "format": "ntriples"}  # Turtle costs 4x the validation itself
        if engine:
            kw["engine"] = engine
        report, summary = _validate_fast(pkg, store, graphs, sg, closure, engine, kw)
        if not summary.engine:
            summary.engine = f"kg_twin.validation ({engine or 'default'})"
        log.info("validated %s with %s (%d shape sets, closure %d graphs)", graphs, summary.engine, len(names), len(closure))
        return Outcome(report=report if isinstance(report, bytes) else str(report).encode(), summary=summary, shapes=names)
    log.warning("kg_twin.validation is not installed: validating %s with pyshacl", graphs)
    return _pyshacl(store, graphs, sg, names, t0)


def _validate_fast(pkg: Any, store: Any, graphs: list[str], sg: Any, closure: list[str], engine: str | None, kw: dict[str, Any]) -> tuple[bytes, ValidationSummary]:
    """``validate_graphs``, with the report written straight to N-Triples
    (``kg_twin.validation.report.report_ntriples``; a test checks isomorphism with
    ``validate_graphs``' report)."""
    try:
        from kg_twin.validation.report import report_ntriples
        from kg_twin.validation.validator import validate_view
    except ImportError:  # an older validation package: its public entry point
        return pkg.validate_graphs(store, graphs, sg, **kw)
    view = store.view(graphs, closure)
    out = validate_view(view, sg, engine=engine or "kgtwin")
    return report_ntriples(out.results, sg), out.summary


def _empty_report() -> bytes:
    return f'_:r <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{SH}ValidationReport> .\n_:r <{SH}conforms> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n'.encode()


@lru_cache(maxsize=1)
def _brick_closure() -> Any:
    import rdflib

    try:
        brick = importlib.import_module("brickschema")
    except ModuleNotFoundError:
        return rdflib.Graph()
    root = Path(brick.__file__).parent / "ontologies"
    files = sorted(root.glob("*/Brick.ttl"))
    g = rdflib.Graph()
    if files:
        g.parse(files[-1], format="turtle")
    return g


def _pyshacl(store: Any, graphs: list[str], sg: Any, names: list[str], t0: float) -> Outcome:
    import io

    import pyshacl
    import rdflib

    data = rdflib.Graph()
    buf = io.BytesIO()
    store.dump(buf, format="ntriples", graphs=graphs)
    data.parse(data=buf.getvalue(), format="nt")
    ont = _brick_closure() if "brickschema.org" in sg.serialize(format="nt") else None
    conforms, rg, _text = pyshacl.validate(data, shacl_graph=sg, ont_graph=ont, inference="none", advanced=True, allow_warnings=True)
    by_sev: dict[str, int] = {}
    by_shape: dict[str, int] = {}
    lines: list[str] = []
    SHN = rdflib.Namespace(SH)
    for r in rg.subjects(rdflib.RDF.type, SHN.ValidationResult):
        sev = str(rg.value(r, SHN.resultSeverity) or SH + "Violation").rsplit("#", 1)[-1]
        shape = rg.value(r, SHN.sourceShape)
        shape_s = str(shape) if isinstance(shape, rdflib.URIRef) else "(blank shape)"
        by_sev[sev] = by_sev.get(sev, 0) + 1
        by_shape[shape_s] = by_shape.get(shape_s, 0) + 1
        focus = rg.value(r, SHN.focusNode)
        path = rg.value(r, SHN.resultPath)
        msg = rg.value(r, SHN.resultMessage)
        lines.append(f"{sev}: <{focus}>" + (f" {path.n3()}" if path is not None else "") + f": {msg or rg.value(r, SHN.sourceConstraintComponent)}")
    summary = ValidationSummary(
        conforms=bool(conforms), engine="pyshacl", total=sum(by_sev.values()), by_severity=by_sev, by_shape=by_shape,
        results=sorted(lines), elapsed_s=round(time.perf_counter() - t0, 4),
    )
    return Outcome(report=rg.serialize(format="nt", encoding="utf-8"), summary=summary, shapes=names)
