"""The links graph of a specification and its review queue.

``{base}graph/{p}/links/{name}`` holds, per candidate pair, a link resource (an ``rdf:Statement`` with
its score, each measure's score, its status and the ``prov:Activity`` of the run that found it) and,
for accepted links only, the asserted triple (``s owl:sameAs t``, ``s skos:closeMatch t`` ...). The run's
activity names the specification, stored in the same graph as a ``kgt:LinkSpecification`` with its YAML
text, so a run can be repeated. A person's decisions go to ``{base}graph/{p}/links/{name}/decisions``
(kept when the links graph is rewritten) and are applied again by every later run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg_twin.access import Caller
from kg_twin.core import Core
from kg_twin.errors import InputError, NotFound
from kg_twin.links.engine import Candidate
from kg_twin.links.sources import LINKS_GRAPH_DIR
from kg_twin.links.spec import LinkSpec, parse_spec
from kg_twin.rdf import IRI, RDF_TYPE, XSD_DOUBLE, XSD_INTEGER, BNode, Literal, NTriplesWriter
from kg_twin.store.base import Dataset
from kg_twin.terms import KGT, PROV, RDF, RDFS

A = IRI(RDF_TYPE)
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
DECISIONS = ("accepted", "rejected")


def link_id(spec: str, source: str, target: str) -> str:
    """Stable id of a candidate pair of a specification (the review queue's key)."""
    return hashlib.sha1(f"{spec}\x00{source}\x00{target}".encode()).hexdigest()[:16]


def decisions_graph(core: Core, project: str, spec_name: str) -> str:
    return core.naming.graph(project, f"{LINKS_GRAPH_DIR}{spec_name}/decisions")


def spec_iri(core: Core, project: str, name: str) -> str:
    return core.naming.mint(project, "link-spec", name)


@dataclass
class Decision:
    source: str
    target: str
    decision: str
    predicate: str


def read_decisions(core: Core, project: str, spec_name: str) -> dict[tuple[str, str], Decision]:
    g = decisions_graph(core, project, spec_name)
    if not core.store.has_graph(g):
        return {}
    rows = core.store.select(
        f"SELECT ?s ?t ?d ?p ?at WHERE {{ GRAPH <{g}> {{ ?x a <{KGT}LinkDecision> ; <{RDF}subject> ?s ; <{RDF}object> ?t ; "
        f"<{RDF}predicate> ?p ; <{KGT}decision> ?d ; <{PROV}generatedAtTime> ?at }} }} ORDER BY ?at"
    )
    out: dict[tuple[str, str], Decision] = {}
    for r in rows:  # the latest decision on a pair wins
        out[(str(r["s"]), str(r["t"]))] = Decision(str(r["s"]), str(r["t"]), str(r["d"]), str(r["p"]))
    return out


def _now() -> Literal:
    return Literal(dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"), XSD_DATETIME)


def write_links(core: Core, project: str, spec: LinkSpec, graph: str, candidates: list[Candidate], decisions: dict[tuple[str, str], Decision],
                *, started: Literal, stats: dict[str, Any]) -> dict[str, int]:
    """Replace the links graph with this run's candidates, decisions applied; returns counts by status."""
    naming = core.naming
    run = IRI(naming.mint(project, "link-run", hashlib.sha1(f"{spec.name}{started.value}".encode()).hexdigest()[:16]))
    sp = IRI(spec_iri(core, project, spec.name))
    w = NTriplesWriter()
    w.add(sp, A, IRI(KGT + "LinkSpecification"))
    w.add(sp, IRI(RDFS + "label"), Literal(spec.name))
    w.add(sp, IRI(KGT + "specificationText"), Literal(spec.to_yaml()))
    w.add(run, A, IRI(PROV + "Activity"))
    w.add(run, A, IRI(KGT + "LinkRun"))
    w.add(run, IRI(PROV + "used"), sp)
    w.add(run, IRI(PROV + "startedAtTime"), started)
    w.add(run, IRI(PROV + "endedAtTime"), _now())
    lines: list[str] = []
    counts = {"accepted": 0, "review": 0, "rejected": sum(d.decision == "rejected" for d in decisions.values())}
    seen: set[tuple[str, str]] = set()
    for c in candidates:
        d = decisions.get((c.source, c.target))
        status, decision = c.status, None
        if d is not None:
            status = decision = d.decision
        seen.add((c.source, c.target))
        _link(lines, naming.mint(project, "link", link_id(spec.name, c.source, c.target)), c.source, c.target, c.predicate, run, status, decision, c.score, c.scores)
        if status != "rejected":  # rejected pairs are counted once, from the decisions
            counts[status] += 1
    for (s, t), d in sorted(decisions.items()):  # a person's acceptance stands even when the run no longer proposes the pair
        if (s, t) not in seen and d.decision == "accepted":
            _link(lines, naming.mint(project, "link", link_id(spec.name, s, t)), s, t, d.predicate, run, "accepted", "accepted", None, {})
            counts["accepted"] += 1
    for prop, v in (("linksAccepted", counts["accepted"]), ("linksToReview", counts["review"]), ("linksRejected", counts["rejected"]),
                    ("sourceEntities", stats.get("sources", 0)), ("targetEntities", stats.get("targets", 0))):
        w.add(run, IRI(KGT + prop), Literal(str(int(v)), XSD_INTEGER))
    # replaced from a file: the store's crash-safe replace (drop + bulk load, redone from the file after a
    # crash) without a staging copy of the old graph
    tmp = Path(core.settings.data_dir) / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="links-", suffix=".nt", dir=tmp)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(w.getvalue())
            fh.write("".join(lines).encode("utf-8"))
        core.store.load(Path(name), format="ntriples", graph=graph, replace=True)
    finally:
        Path(name).unlink(missing_ok=True)
    core.notify(project)
    return counts


_T = {k: f"<{v}>" for k, v in {
    "type": RDF_TYPE, "Statement": RDF + "Statement", "Link": KGT + "Link", "subject": RDF + "subject", "predicate": RDF + "predicate",
    "object": RDF + "object", "status": KGT + "linkStatus", "run": PROV + "wasGeneratedBy", "score": KGT + "score",
    "measureScore": KGT + "measureScore", "measure": KGT + "measure", "decision": KGT + "decision"}.items()}


def _link(out: list[str], iri: str, s: str, t: str, p: str, run: IRI, status: str, decision: str | None, score: float | None, scores: dict[str, float]) -> None:
    """The triples of one link, written as N-Triples text directly (a run writes ~15 per link)."""
    link, S, P, O, R = IRI(iri).nt(), IRI(s).nt(), IRI(p).nt(), IRI(t).nt(), run.nt()
    T = _T
    lines = [
        f"{link} {T['type']} {T['Statement']} .\n", f"{link} {T['type']} {T['Link']} .\n",
        f"{link} {T['subject']} {S} .\n", f"{link} {T['predicate']} {P} .\n", f"{link} {T['object']} {O} .\n",
        f"{link} {T['status']} {Literal(status).nt()} .\n", f"{link} {T['run']} {R} .\n",
    ]
    if score is not None:
        lines.append(f"{link} {T['score']} {Literal(repr(float(score)), XSD_DOUBLE).nt()} .\n")
    for n, v in sorted(scores.items()):
        m = BNode(f"m{hashlib.sha1((iri + n).encode()).hexdigest()[:12]}").nt()
        lines += [f"{link} {T['measureScore']} {m} .\n", f"{m} {T['measure']} {Literal(n).nt()} .\n", f"{m} {T['score']} {Literal(repr(float(v)), XSD_DOUBLE).nt()} .\n"]
    if decision:
        lines.append(f"{link} {T['decision']} {Literal(decision).nt()} .\n")
    if status == "accepted":
        lines.append(f"{S} {P} {O} .\n")
    out.extend(lines)


def link_graphs(core: Core, project: str) -> list[str]:
    prefix = core.naming.graph(project, LINKS_GRAPH_DIR)
    return [g for g in core.project_graphs(project, include_inferred=False, include_default=False) if g.startswith(prefix) and not g.endswith("/decisions")]


def stored_spec(core: Core, project: str, name: str) -> LinkSpec:
    """The specification a previous run of ``name`` stored (to run it again)."""
    graphs = link_graphs(core, project)
    if graphs:
        rows = core.store.select(
            f"SELECT ?text WHERE {{ GRAPH ?g {{ <{spec_iri(core, project, name)}> <{KGT}specificationText> ?text }} }} LIMIT 1",
            dataset=Dataset((), tuple(graphs)),
        )
        if rows:
            return parse_spec(str(rows[0]["text"]), where=f"stored specification {name!r}")
    raise NotFound("LINK_SPEC_NOT_FOUND", f"project {project!r} has no stored link specification {name!r}", hint="run it once from a file: `kg-twin link run SPEC.yml --project P`")


def review_queue(core: Core, project: str, *, spec: str | None = None, status: str = "review", limit: int = 1000) -> list[dict[str, Any]]:
    """Links waiting for a person (``status="review"``), or with another status, best score first."""
    if status not in ("review", "accepted", "rejected"):
        raise InputError("BAD_STATUS", f"unknown link status {status!r}", hint="use review, accepted or rejected")
    out: list[dict[str, Any]] = []
    for g in link_graphs(core, project):
        rows = core.store.select(
            f"""SELECT ?l ?s ?p ?t ?score ?spec ?decision WHERE {{ GRAPH <{g}> {{
                ?l a <{KGT}Link> ; <{RDF}subject> ?s ; <{RDF}predicate> ?p ; <{RDF}object> ?t ; <{KGT}linkStatus> "{status}" ;
                   <{PROV}wasGeneratedBy>/<{PROV}used>/<{RDFS}label> ?spec .
                OPTIONAL {{ ?l <{KGT}score> ?score }} OPTIONAL {{ ?l <{KGT}decision> ?decision }} }} }}"""
        )
        for r in rows:
            name = str(r["spec"])
            if spec is not None and name != spec:
                continue
            out.append({
                "id": str(r["l"]).rsplit("/", 1)[-1], "link": str(r["l"]), "spec": name, "source": str(r["s"]), "predicate": str(r["p"]),
                "target": str(r["t"]), "score": float(r["score"]) if "score" in r else None, "status": status,
                "decision": str(r["decision"]) if "decision" in r else None,
            })
    out.sort(key=lambda x: (-(x["score"] or 0.0), x["id"]))
    return out[:limit]


def decide(core: Core, project: str, link: str, decision: str, caller: Caller | None = None) -> dict[str, Any]:
    """Accept or reject a candidate link: the decision is kept (decisions graph) and applied at once
    (status, asserted triple) in one transaction."""
    if decision not in DECISIONS:
        raise InputError("BAD_DECISION", f"decision must be accept or reject, got {decision!r}", hint="use accept or reject")
    iri = core.naming.mint(project, "link", link)
    for g in link_graphs(core, project):
        rows = core.store.select(
            f"SELECT ?s ?p ?t ?spec ?st WHERE {{ GRAPH <{g}> {{ <{iri}> <{RDF}subject> ?s ; <{RDF}predicate> ?p ; <{RDF}object> ?t ; "
            f"<{KGT}linkStatus> ?st ; <{PROV}wasGeneratedBy>/<{PROV}used>/<{RDFS}label> ?spec }} }}"
        )
        if rows:
            break
    else:
        raise NotFound("LINK_NOT_FOUND", f"no link {link!r} in project {project!r}", hint="list candidates with `kg-twin link review list --project P`")
    r = rows[0]
    s, p, t, spec = str(r["s"]), str(r["p"]), str(r["t"]), str(r["spec"])
    dg = decisions_graph(core, project, spec)
    now = _now()
    d = IRI(core.naming.mint(project, "link-decision", hashlib.sha1(f"{link}{now.value}".encode()).hexdigest()[:16]))
    who = (caller.label or caller.token_id or "anonymous") if caller is not None else "cli"
    w = NTriplesWriter()
    w.add(d, A, IRI(KGT + "LinkDecision"))
    w.add(d, IRI(RDF + "subject"), IRI(s))
    w.add(d, IRI(RDF + "predicate"), IRI(p))
    w.add(d, IRI(RDF + "object"), IRI(t))
    w.add(d, IRI(KGT + "decision"), Literal(decision))
    w.add(d, IRI(KGT + "decides"), IRI(iri))
    w.add(d, IRI(PROV + "generatedAtTime"), now)
    w.add(d, IRI(PROV + "wasAttributedTo"), Literal(str(who)))
    asserted = f"<{s}> <{p}> <{t}> ."
    update = (
        f"DELETE {{ GRAPH <{g}> {{ <{iri}> <{KGT}linkStatus> ?st . <{iri}> <{KGT}decision> ?old . {asserted} }} }} "
        f"WHERE {{ GRAPH <{g}> {{ <{iri}> <{KGT}linkStatus> ?st OPTIONAL {{ <{iri}> <{KGT}decision> ?old }} }} }} ;\n"
        f"INSERT DATA {{ GRAPH <{g}> {{ <{iri}> <{KGT}linkStatus> \"{decision}\" . <{iri}> <{KGT}decision> \"{decision}\" . "
        + (asserted if decision == "accepted" else "")
        + f" }} GRAPH <{dg}> {{ {w.getvalue().decode()} }} }}"
    )
    core.store.update(update)
    core.notify(project)
    return {"id": link, "link": iri, "spec": spec, "source": s, "predicate": p, "target": t, "status": decision, "decision": decision, "previous": str(r["st"])}
