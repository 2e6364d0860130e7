"""SHACL for the ingest pipeline: the project's shapes run on a staged graph.

:func:`validate_staged` asks :func:`kg_twin.validation.shapes.project_shapes` which shapes apply
(the files given with ``--shapes``, else the project's selection of library sets plus its own
shapes), loads the ontology closure (``brick-bot`` and what it needs) into the store that holds
the staged graph once, runs :func:`kg_twin.validation.validate_store` there and writes the
``sh:ValidationReport`` as N-Triples. The engine is named in :attr:`ValidationSummary.engine`.

No shapes at all: the staged graph conforms trivially; the summary says so (engine ``none``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from kg_twin import ontologies
from kg_twin.errors import KgTwinError
from kg_twin.models import ValidationSummary
from kg_twin.store.base import GraphStore
from kg_twin.terms import SH, Naming
from kg_twin.validation.report import report_ntriples
from kg_twin.validation.shapes import project_shapes
from kg_twin.validation.validator import validate_store

log = logging.getLogger(__name__)

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


def closure_graphs(store: GraphStore, base: str) -> list[str]:
    """Ontology graphs (``{base}graph/_ontology/...``) in ``store``, loading the bundle's
    :data:`CLOSURE_MODULES` once if absent."""
    prefix = f"{base}graph/_ontology/"
    have = [g for g in store.graphs() if g.startswith(prefix)]
    if have:
        return have
    try:
        ontologies.load_into_store(store, base, list(CLOSURE_MODULES))
    except KgTwinError as e:
        log.warning("ontology closure %s not loaded (%s): validating without it", CLOSURE_MODULES, e)
        return []
    return [g for g in store.graphs() if g.startswith(prefix)]


def validate_staged(
    project_store: GraphStore,
    naming: Naming,
    project: str,
    graphs: list[str],
    *,
    staged_in: GraphStore | None = None,
    shapes: Sequence[str | Path] | None = None,
    engine: str | None = None,
) -> Outcome:
    """Validate the union of ``graphs`` of ``staged_in`` (default: the project store) with the
    shapes that apply to ``project`` (read from the project store)."""
    store = staged_in if staged_in is not None else project_store
    sg, names = project_shapes(project_store, naming, project, files=shapes or ())
    if len(sg) == 0:
        log.info("no SHACL shapes apply to project %s: staged data conforms trivially", project)
        summary = ValidationSummary(conforms=True, engine="none", results=[f"no SHACL shapes for project {project}"], elapsed_s=0.0)
        return Outcome(report=_empty_report(), summary=summary, shapes=[])
    closure = closure_graphs(store, naming.base)
    out = validate_store(store, graphs, sg, closure_graphs=closure, closure_files=[], engine=engine or "kgtwin")
    summary = out.summary
    if not summary.engine:
        summary.engine = f"kg_twin.validation ({engine or 'kgtwin'})"
    log.info("validated %s with %s (%d shape sets, closure %d graphs)", graphs, summary.engine, len(names), len(closure))
    # the report straight to N-Triples: an rdflib report graph costs more than the validation
    return Outcome(report=report_ntriples(out.results, sg), summary=summary, shapes=names)


def _empty_report() -> bytes:
    return f'_:r <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{SH}ValidationReport> .\n_:r <{SH}conforms> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n'.encode()
