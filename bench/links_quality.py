"""Precision / recall / F1 of the link specifications of ``tests/data/links/specs`` on the labelled sets.

    python -m bench.links_quality        # prints the table of docs/links.md

The sources go through the real ingest pipeline (Duplex_A.ifc, BD TOPO BATIMENT and activity zones)
or are loaded as RDF (the labelled sets of ``bench/links_data.py`` and Brick's IFC example as
published); each specification runs through :func:`kg_twin.links.run.run_links` and its links are
read back from the links graph. "accepted" counts the links above ``accept``; "+review" also
counts the candidates a person would review.
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kg_twin.core import Core
from kg_twin.ingest import pipeline
from kg_twin.links.review import review_queue
from kg_twin.links.run import run_links
from kg_twin.links.spec import LinkSpec, parse_spec
from kg_twin.service import Twin, create_twin
from kg_twin.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
LINKS = DATA / "links"
SPECS = LINKS / "specs"
INGESTED = [DATA / "ifc" / "Duplex_A.ifc", DATA / "geo" / "bdtopo_batiment_olemps.zip", DATA / "geo" / "ZONE_D_ACTIVITE_OU_D_INTERET.shp"]
LOADED = {"duplex-brick-refs": LINKS / "duplex-brick-refs.ttl", "brick-ifc-example": DATA / "brick" / "ifc.ttl",
          "olemps-footprints-noisy": LINKS / "olemps-footprints-noisy.ttl", "duplex-points": LINKS / "duplex-points.ttl"}
DCT_ID = "http://purl.org/dc/terms/identifier"


@dataclass
class Score:
    spec: str
    gold: int
    tp: int
    fp: int
    fn: int
    tp_r: int
    fp_r: int
    fn_r: int
    seconds: float

    @staticmethod
    def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    @property
    def accepted(self) -> tuple[float, float, float]:
        return self.prf(self.tp, self.fp, self.fn)

    @property
    def with_review(self) -> tuple[float, float, float]:
        return self.prf(self.tp_r, self.fp_r, self.fn_r)


def setup(twin: Twin, project: str = "links") -> None:
    """Ingest and load the sources of the labelled sets into ``project``."""
    twin.projects.create(project)
    for f in INGESTED:
        report = pipeline.ingest(twin, project, f, pipeline.IngestOptions())
        if report.status != "published":
            raise RuntimeError(f"{f.name}: {report.status}")
    for name, f in LOADED.items():
        twin.store.load(f.read_bytes(), format="turtle", graph=twin.naming.graph(project, name), base_iri=f.as_uri())


def _ids(core: Core, project: str, graph: str) -> dict[str, str]:
    g = core.naming.graph(project, graph)
    return {str(r["i"]): str(r["s"]) for r in core.store.select(f"SELECT ?s ?i WHERE {{ GRAPH <{g}> {{ ?s <{DCT_ID}> ?i }} }}")}


def _csv(path: Path) -> list[tuple[str, str]]:
    with path.open() as fh:
        rows = list(csv.reader(fh))
    return [(a, b) for a, b in rows[1:]]


def gold(core: Core, project: str, spec: str) -> set[tuple[str, str]]:
    """The true pairs of a specification's labelled set, as (source IRI, target IRI)."""
    duplex = _ids(core, project, "duplex_a.ifc")
    if spec == "brick-ifc-globalid":
        return {(s, duplex[g]) for s, g in _csv(LINKS / "duplex-brick-gold.csv")}
    if spec == "rooms":
        return {(s, duplex[g]) for s, g in _csv(LINKS / "duplex-points-gold.csv")}
    bdtopo = _ids(core, project, "bdtopo_batiment_olemps.zip")
    if spec == "footprints":
        return {(s, bdtopo[b]) for s, b in _csv(LINKS / "olemps-footprints-gold.csv")}
    if spec == "zones":
        zones = _ids(core, project, "zone_d_activite_ou_d_interet.shp")
        return {(zones[z], bdtopo[b]) for z, b in _csv(LINKS / "olemps-zones-gold.csv")}
    raise KeyError(spec)


def load_spec(name: str) -> LinkSpec:
    return parse_spec((SPECS / f"{name}.yml").read_text(), where=f"{name}.yml")


def evaluate(twin: Twin, spec: LinkSpec, project: str = "links") -> Score:
    t0 = time.perf_counter()
    run_links(twin, project, spec)
    seconds = time.perf_counter() - t0
    acc = {(x["source"], x["target"]) for x in review_queue(twin, project, spec=spec.name, status="accepted", limit=10**9)}
    rev = {(x["source"], x["target"]) for x in review_queue(twin, project, spec=spec.name, status="review", limit=10**9)}
    g = gold(twin, project, spec.name)
    both = acc | rev
    return Score(spec.name, len(g), len(acc & g), len(acc - g), len(g - acc), len(both & g), len(both - g), len(g - both), seconds)


NAMES = ("brick-ifc-globalid", "footprints", "zones", "rooms")


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        twin = create_twin(Settings(store="memory", data_dir=d, base_iri="http://twin.test/", infer_on_change=False))
        t0 = time.perf_counter()
        setup(twin)
        print(f"setup (ingest + load): {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        print("| rule (spec) | gold links | accepted: P / R / F1 | accepted + review: P / R / F1 | run (s) |")
        print("|---|---|---|---|---|")
        for name in NAMES:
            s = evaluate(twin, load_spec(name))
            a, r = s.accepted, s.with_review
            print(f"| `{name}` | {s.gold} | {a[0]:.3f} / {a[1]:.3f} / **{a[2]:.3f}** (tp {s.tp}, fp {s.fp}, fn {s.fn}) | "
                  f"{r[0]:.3f} / {r[1]:.3f} / {r[2]:.3f} | {s.seconds:.2f} |")
        twin.close()


if __name__ == "__main__":
    main()
