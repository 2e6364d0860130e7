"""The PROV-O record of one ingest: the activity, the source file, the mapping, the agent,
and the graph it generated (written to ``{base}graph/{project}/provenance`` with the publish).
"""

from __future__ import annotations

from datetime import datetime

from kg_twin.ingest.run import Run
from kg_twin.rdf import IRI, XSD_BOOLEAN, XSD_DATETIME, XSD_INTEGER, Literal, NTriplesWriter
from kg_twin.terms import DCAT, DCTERMS, KGT, PROV, RDF, RDFS, XSD

PROVENANCE_GRAPH = "provenance"


def provenance(run: Run, activity: IRI, target: str, ended: datetime) -> str:
    """N-Triples of the PROV-O record of one ingest (activity, source entity, mapping entity, agent)."""
    naming, project, rec, report, opts, outcome = run.twin.naming, run.project, run.source, run.report, run.opts, run.outcome
    mapping, mhash, started = run.mapping, run.mapping_hash, run.started
    w = NTriplesWriter()
    A = IRI(RDF + "type")
    src = IRI(run.source_iri)
    act = activity
    agent = IRI(naming.mint(project, "agent", opts.agent or "anonymous"))
    mp = IRI(naming.mint(project, "mapping", mhash))
    g = IRI(target)
    # the source file
    for c in (KGT + "Source", DCAT + "Distribution", PROV + "Entity"):
        w.add(src, A, IRI(c))
    w.add(src, IRI(KGT + "sha256"), Literal(rec.sha256))
    w.add(src, IRI(DCTERMS + "title"), Literal(rec.name))
    w.add(src, IRI(DCAT + "byteSize"), Literal(str(rec.size), XSD + "nonNegativeInteger"))
    w.add(src, IRI(DCAT + "mediaType"), IRI("https://www.iana.org/assignments/media-types/" + rec.media_type))
    w.add(src, IRI(DCTERMS + "format"), Literal(rec.media_type))
    for part, digest in sorted(rec.parts.items()):
        w.add(src, IRI(KGT + "memberFile"), Literal(f"{part} sha256:{digest}"))
    # the mapping
    w.add(mp, A, IRI(PROV + "Entity"))
    w.add(mp, A, IRI(KGT + "Mapping"))
    w.add(mp, IRI(KGT + "sha256"), Literal(mhash))
    w.add(mp, IRI(KGT + "handler"), Literal(str(mapping.get("handler", report.reader))))
    w.add(mp, IRI(DCTERMS + "format"), Literal("application/yaml"))
    # the agent
    w.add(agent, A, IRI(PROV + "Agent"))
    w.add(agent, IRI(RDFS + "label"), Literal(opts.agent or "anonymous"))
    # the activity
    w.add(act, A, IRI(PROV + "Activity"))
    w.add(act, A, IRI(KGT + "Ingest"))
    w.add(act, IRI(RDFS + "label"), Literal(f"ingest of {rec.name}"))
    w.add(act, IRI(PROV + "startedAtTime"), Literal(started.isoformat(), XSD_DATETIME))
    w.add(act, IRI(PROV + "endedAtTime"), Literal(ended.isoformat(), XSD_DATETIME))
    w.add(act, IRI(PROV + "wasAssociatedWith"), agent)
    w.add(act, IRI(PROV + "used"), src)
    w.add(act, IRI(PROV + "used"), mp)
    w.add(act, IRI(PROV + "generated"), g)
    w.add(act, IRI(KGT + "graph"), g)
    w.add(act, IRI(KGT + "project"), IRI(naming.project_iri(project)))
    w.add(act, IRI(KGT + "reader"), Literal(report.reader))
    w.add(act, IRI(KGT + "mappingHash"), Literal(mhash))
    w.add(act, IRI(KGT + "status"), Literal(report.status))
    w.add(act, IRI(KGT + "records"), Literal(str(report.records), XSD_INTEGER))
    w.add(act, IRI(KGT + "mapped"), Literal(str(report.mapped), XSD_INTEGER))
    w.add(act, IRI(KGT + "rejected"), Literal(str(report.rejected), XSD_INTEGER))
    w.add(act, IRI(KGT + "triples"), Literal(str(report.triples), XSD_INTEGER))
    if outcome is not None:
        s = outcome.summary
        w.add(act, IRI(KGT + "conforms"), Literal("true" if s.conforms else "false", XSD_BOOLEAN))
        w.add(act, IRI(KGT + "violations"), Literal(str(outcome.violations), XSD_INTEGER))
        w.add(act, IRI(KGT + "warnings"), Literal(str(outcome.warnings), XSD_INTEGER))
        w.add(act, IRI(KGT + "validationEngine"), Literal(s.engine))
        for n in outcome.shapes:
            w.add(act, IRI(KGT + "shapeSet"), Literal(n))
    w.add(act, IRI(KGT + "accepted"), Literal(opts.accept))
    # the produced graph
    w.add(g, IRI(PROV + "wasGeneratedBy"), act)
    w.add(g, IRI(PROV + "wasDerivedFrom"), src)
    return w.getvalue().decode("utf-8")


def provenance_update(run: Run, activity: IRI, target: str, ended: datetime) -> list[str]:
    """SPARQL update operations that replace ``target``'s provenance with this run's."""
    pg = run.twin.naming.graph(run.project, PROVENANCE_GRAPH)
    return [
        f"DELETE WHERE {{ GRAPH <{pg}> {{ <{target}> <{PROV}wasGeneratedBy> ?a }} }}",
        f"DELETE WHERE {{ GRAPH <{pg}> {{ <{target}> <{PROV}wasDerivedFrom> ?s }} }}",
        f"INSERT DATA {{ GRAPH <{pg}> {{\n{provenance(run, activity, target, ended)}}} }}",
    ]
