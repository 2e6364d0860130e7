"""Run a link specification on a project: read both sides, match, write the links graph.

The CLI (``kg-twin link run``) and the API (``POST /projects/{p}/links``) call :func:`run_links`.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from kg_twin.access import Caller
from kg_twin.core import Core
from kg_twin.errors import InputError
from kg_twin.links.engine import match
from kg_twin.links.review import XSD_DATETIME, read_decisions, write_links
from kg_twin.links.sources import check_endpoint, entities, links_graph, read_side, side_rows
from kg_twin.links.spec import LinkSpec
from kg_twin.rdf import Literal


def run_links(core: Core, project: str, spec: LinkSpec, caller: Caller | None = None, *, dry_run: bool = False) -> dict[str, Any]:
    """Find the links of ``spec`` in ``project`` (the caller needs write access to it and read access to
    every project a side names) and replace the specification's links graph. Returns a summary."""
    if caller is not None:
        core.access.require(caller, project, "writer")
    if not core.projects.exists(project):
        raise InputError("NO_SUCH_PROJECT", f"project {project!r} does not exist", hint="create it with `kg-twin project create`")
    for side in (spec.source, spec.target):
        check_endpoint(core, side)
    started = Literal(dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"), XSD_DATETIME)
    t0 = time.perf_counter()
    graph = links_graph(core, project, spec)
    src_raw = read_side(side_rows(core, project, caller, spec.source, exclude=(graph,)), spec, spec.source)
    tgt_raw = read_side(side_rows(core, project, caller, spec.target, exclude=(graph,)), spec, spec.target)
    t1 = time.perf_counter()
    src, tgt, crs = entities(spec, src_raw, tgt_raw)
    decisions = read_decisions(core, project, spec.name)
    rejected = {k for k, d in decisions.items() if d.decision == "rejected"}
    candidates = match(spec, src, tgt, rejected=rejected)
    t2 = time.perf_counter()
    counts = {"accepted": sum(c.status == "accepted" for c in candidates), "review": sum(c.status == "review" for c in candidates), "rejected": len(rejected)}
    if not dry_run:
        counts = write_links(core, project, spec, graph, candidates, decisions, started=started, stats={"sources": len(src), "targets": len(tgt)})
    return {
        "spec": spec.name, "project": project, "graph": core.naming.client_graph(project, graph), "dry_run": dry_run,
        "sources": len(src), "targets": len(tgt), "candidates": len(candidates), **counts,
        "relation": spec.relation, "crs": crs, "decisions_applied": len(decisions),
        "unreadable_geometries": {"source": src_raw.unreadable, "target": tgt_raw.unreadable},
        "seconds": {"read": round(t1 - t0, 3), "match": round(t2 - t1, 3), "total": round(time.perf_counter() - t0, 3)},
    }
