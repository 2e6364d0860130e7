"""The demo territory: project ``demo`` (public read) built from ``examples/`` through the ingest pipeline.

``kg-twin serve --demo`` calls :func:`load_demo`. Every file goes through the same pipeline as
``kg-twin ingest`` (detect/read, proposed mapping, map, SHACL, publish, PROV-O). The demo publishes
despite SHACL results (``accept=violations``) so that the whole territory is visible; each file's
report (with its validation summary) is in ``{data_dir}/sources/demo/{sha256}/report.json``.

A file whose reader is not installed is skipped and listed; a file already published from the
same bytes is not ingested again (the demo loads quickly on a restart).

Files, in load order (documents last, so they can link to the equipment they describe):

=====================================================  ==========  ==========================================
file                                                   reader      what
=====================================================  ==========  ==========================================
building/smallOffice_brick.ttl                         rdf         DOE small office in Brick (BuildingMOTIF)
building/thermostats.csv                               table       thermostat point list (BuildingMOTIF)
building/Duplex_A.ifc                                  ifc         IFC2X3 duplex (buildingSMART)
olemps/COMMUNE.zip                                     shapefile   BD TOPO commune of Olemps (IGN)
olemps/ZONE_D_ACTIVITE_OU_D_INTERET.zip                shapefile   BD TOPO activity zones (IGN)
olemps/BATIMENT.zip                                    shapefile   BD TOPO buildings (IGN)
documents/tstat2_manual.txt                            document    maintenance notes of thermostat tstat2
documents/tstat3_datasheet.pdf                         document    datasheet of thermostat tstat3
=====================================================  ==========  ==========================================
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg_twin.errors import KgTwinError
from kg_twin.service import Twin

log = logging.getLogger(__name__)

PROJECT = "demo"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
MANIFEST: list[tuple[str, str]] = [
    ("building/smallOffice_brick.ttl", "rdf"),
    ("building/thermostats.csv", "table"),
    ("building/Duplex_A.ifc", "ifc"),
    ("olemps/COMMUNE.zip", "shapefile"),
    ("olemps/ZONE_D_ACTIVITE_OU_D_INTERET.zip", "shapefile"),
    ("olemps/BATIMENT.zip", "shapefile"),
    ("documents/tstat2_manual.txt", "document"),
    ("documents/tstat3_datasheet.pdf", "document"),
]


@dataclass
class DemoResult:
    loaded: list[dict[str, Any]] = field(default_factory=list)  # file, graph, triples, status, validation
    unchanged: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # file, reason
    failed: list[dict[str, str]] = field(default_factory=list)  # file, error

    def lines(self) -> list[str]:
        out = []
        for r in self.loaded:
            out.append(f"  loaded    {r['file']} -> {r['graph']} ({r['triples']} triples, {r['validation']})")
        out += [f"  unchanged {f}" for f in self.unchanged]
        out += [f"  SKIPPED   {s['file']}: {s['reason']}" for s in self.skipped]
        out += [f"  FAILED    {s['file']}: {s['error']}" for s in self.failed]
        return out


def _published_sha(twin: Twin, graph: str) -> str | None:
    from kg_twin.ingest.pipeline import PROVENANCE_GRAPH
    from kg_twin.terms import KGT, PROV

    pg = twin.naming.graph(PROJECT, PROVENANCE_GRAPH)
    rows = twin.store.select(
        f"SELECT ?sha WHERE {{ GRAPH <{pg}> {{ <{graph}> <{PROV}wasDerivedFrom> ?src . ?src <{KGT}sha256> ?sha }} }}"
    )
    return str(rows[0]["sha"]) if rows and twin.store.has_graph(graph) else None


def load_demo(twin: Twin, *, root: Path | None = None, quiet: bool = False) -> DemoResult:
    """Build (or refresh) project ``demo`` from ``examples/``; returns what was loaded, skipped, failed."""
    from kg_twin.ingest.pipeline import IngestOptions, ingest, load_handlers, receive, source_slug

    root = root or EXAMPLES
    res = DemoResult()
    if not twin.projects.exists(PROJECT):
        twin.projects.create(PROJECT, title="Demo territory", description="Olemps (BD TOPO), a small office (Brick), a duplex (IFC), thermostats and their documents; built by the kg-twin ingest pipeline from examples/", licence="see examples/README.md", public=True)
    handlers = load_handlers()
    for rel, reader in MANIFEST:
        path = root / rel
        if not path.is_file():
            res.skipped.append({"file": rel, "reason": f"missing from {root}"})
            continue
        if reader not in handlers:
            res.skipped.append({"file": rel, "reason": f"reader {reader!r} is not installed (installed: {', '.join(sorted(handlers)) or 'none'})"})
            continue
        graph = twin.naming.graph(PROJECT, source_slug(path.name))
        sha = receive(twin.settings.sources_path, PROJECT, path, store=False).sha256
        if _published_sha(twin, graph) == sha:
            res.unchanged.append(rel)
            continue
        try:
            rep = ingest(twin, PROJECT, path, IngestOptions(reader=reader, accept="violations", agent="kg-twin demo loader"))
        except KgTwinError as e:
            res.failed.append({"file": rel, "error": str(e).splitlines()[0]})
            log.warning("demo: %s failed: %s", rel, e)
            continue
        v = rep.validation
        vtxt = "not validated" if v is None else ("conforms" if v.conforms else f"{v.total} SHACL results, published anyway") + f", {v.engine}"
        res.loaded.append({"file": rel, "graph": rep.graph or "", "triples": rep.triples, "status": rep.status, "validation": vtxt, "rejected": rep.rejected})
    if not quiet:
        print(f"demo project {PROJECT!r} from {root}:", file=sys.stderr)
        for line in res.lines():
            print(line, file=sys.stderr)
    return res


def start_demo_feed(twin: Twin, project: str = PROJECT, *, backfill_hours: float = 24.0, period_s: float = 30.0) -> Any:
    """Make the demo twin live: a day of simulated history, then a reading per point every
    ``period_s`` seconds, through the live service (as MQTT or REST readings would arrive).

    Runs in a daemon thread; returns a ``threading.Event`` that stops it.
    """
    import threading

    from kg_twin.live.readings import RawReading
    from kg_twin.live.simulate import run_simulation

    stop = threading.Event()

    def run() -> None:
        try:
            live = twin.live_service()
            points = live.points(project)
            if not points:
                log.info("demo feed: project %s has no points", project)
                return

            def send(batch: list[dict[str, Any]]) -> dict[str, Any]:
                if stop.is_set():
                    raise KgTwinError("DEMO_FEED_STOPPED", "stopped")
                return live.ingest(project, [RawReading(x["point"], x["timestamp"], x["value"]) for x in batch]).to_dict()

            run_simulation(points, send, minutes=backfill_hours * 60, step_s=900)
            live.flush()
            log.info("demo feed: %d points backfilled over %.0f h; streaming every %.0f s", len(points), backfill_hours, period_s)
            run_simulation(points, send, minutes=7 * 24 * 60, rate=max(len(points) / period_s, 0.2))
        except KgTwinError as e:
            if e.code != "DEMO_FEED_STOPPED":
                log.warning("demo feed stopped: %s", e)
        except Exception:  # the feed is a convenience: never take the server down
            log.exception("demo feed failed")

    threading.Thread(target=run, name="kg-twin-demo-feed", daemon=True).start()
    return stop
