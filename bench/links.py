"""Link-discovery throughput: links/s at 100k × 100k candidate footprints, with blocking.

    python -m bench.links                 # 100k x 100k (about a minute)
    python -m bench.links --n 20000       # smaller
    python -m bench.links --store 20000   # also the whole run through the store (run_links) at that size

The data: n building footprints (rectangles of 6-30 m on a street grid, random orientation) and a
noisy copy of each (shifted, re-digitised, 4 % missing, 2 % extra), in a metric CRS. The specification
is the footprint rule of docs/links.md (IoU weight 2 + centroid distance within 10 m, one-to-one).
The baseline, measured in the same run, is the same scoring without blocking: every pair of a
1,000 × 1,000 subsample, whose pairs/s give the time n × n pairs would take; the table prints the
ratio. Quality (precision / recall / F1 against the known pairs) is printed with the speed.
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import time

import numpy as np
import shapely

from kg_twin.links.engine import Entities, block, match, score
from kg_twin.links.spec import parse_spec

SPEC = """
name: footprints
source: {class: bot:Building}
target: {class: bot:Building}
measures:
  - {type: iou, weight: 2}
  - {type: distance, max: 10, weight: 1}
relation: owl:sameAs
identity: 0.75
accept: 0.55
review: 0.35
match: one_to_one
"""


def footprints(n: int, rng: random.Random) -> list[shapely.Polygon]:
    side = int(math.ceil(math.sqrt(n)))
    out = []
    for k in range(n):
        cx, cy = (k % side) * 40.0 + rng.uniform(-5, 5), (k // side) * 40.0 + rng.uniform(-5, 5)
        w, h = rng.uniform(6, 30), rng.uniform(6, 30)
        box = shapely.box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        out.append(shapely.affinity.rotate(box, rng.uniform(0, 90)))
    return out


def noisy(polys: list[shapely.Polygon], rng: random.Random) -> tuple[list[tuple[int, shapely.Polygon]], int]:
    out = []
    for i, p in enumerate(polys):
        if rng.random() < 0.04:
            continue
        coords = [(x + rng.gauss(0, 0.3), y + rng.gauss(0, 0.3)) for x, y in list(p.exterior.coords)[:-1]]
        q = shapely.affinity.translate(shapely.Polygon(coords + coords[:1]), 0.6 + rng.gauss(0, 0.5), -0.4 + rng.gauss(0, 0.5))
        out.append((i, shapely.make_valid(q)))
    extra = int(len(polys) * 0.02)
    for _ in range(extra):
        out.append((-1, shapely.affinity.translate(rng.choice(polys), rng.uniform(15, 25), rng.uniform(15, 25))))
    return out, extra


def baseline_pairs_per_s(spec, src: Entities, tgt: Entities, k: int = 1000) -> float:
    """Scoring without blocking: every pair of a k × k subsample."""
    si = np.repeat(np.arange(min(k, len(src))), min(k, len(tgt)))
    ti = np.tile(np.arange(min(k, len(tgt))), min(k, len(src)))
    t0 = time.perf_counter()
    score(spec, src, tgt, si, ti)
    return len(si) / (time.perf_counter() - t0)


def run(n: int, seed: int = 19, baseline_k: int = 1000) -> dict[str, float]:
    rng = random.Random(seed)
    spec = parse_spec(SPEC)
    base = footprints(n, rng)
    derived, _ = noisy(base, rng)
    tgt = Entities.of([(f"t{i}", (), (), (), p) for i, p in enumerate(base)])
    src = Entities.of([(f"s{k}", (), (), (), p) for k, (_, p) in enumerate(derived)])
    gold = {(f"s{k}", f"t{i}") for k, (i, _) in enumerate(derived) if i >= 0}
    t0 = time.perf_counter()
    si, _ = block(spec, src, tgt)
    t_block = time.perf_counter() - t0
    t0 = time.perf_counter()
    links = match(spec, src, tgt)
    t_match = time.perf_counter() - t0
    acc = {(c.source, c.target) for c in links if c.status == "accepted"}
    tp = len(acc & gold)
    p, r = tp / max(len(acc), 1), tp / max(len(gold), 1)
    pps = baseline_pairs_per_s(spec, src, tgt, baseline_k)
    brute = len(src) * len(tgt) / pps
    return {"sources": len(src), "targets": len(tgt), "candidates": len(si), "links": len(links), "accepted": len(acc),
            "block_s": t_block, "match_s": t_match, "links_per_s": len(links) / t_match, "entities_per_s": (len(src) + len(tgt)) / t_match,
            "baseline_pairs_per_s": pps, "baseline_s": brute, "speedup": brute / t_match, "precision": p, "recall": r, "f1": 2 * p * r / max(p + r, 1e-12)}


def run_store(n: int, seed: int = 19) -> dict[str, float]:
    """The same data written as GeoSPARQL into a project (CRS84 WKT) and linked by run_links."""
    import pyproj

    from kg_twin.links.run import run_links
    from kg_twin.service import create_twin
    from kg_twin.settings import Settings

    rng = random.Random(seed)
    base = footprints(n, rng)
    derived, _ = noisy(base, rng)
    tr = pyproj.Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True)

    def nt(prefix: str, polys: list[shapely.Polygon]) -> bytes:
        geoms = shapely.transform(np.array(polys, dtype=object), lambda xy: np.column_stack(tr.transform(xy[:, 0] + 640000, xy[:, 1] + 6360000)))
        lines = []
        for k, g in enumerate(geoms):
            s = f"<http://example.org/{prefix}/{k}>"
            lines.append(f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/bot#Building> .\n"
                         f"{s} <http://www.opengis.net/ont/geosparql#hasDefaultGeometry> <http://example.org/{prefix}/{k}/g> .\n"
                         f"<http://example.org/{prefix}/{k}/g> <http://www.opengis.net/ont/geosparql#asWKT> \"{shapely.to_wkt(g, rounding_precision=8)}\"^^<http://www.opengis.net/ont/geosparql#wktLiteral> .\n")
        return "".join(lines).encode()

    with tempfile.TemporaryDirectory() as d:
        twin = create_twin(Settings(store="oxigraph", data_dir=d, base_iri="http://twin.test/", infer_on_change=False))
        try:
            twin.projects.create("bench")
            twin.store.load(nt("base", base), format="ntriples", graph=twin.naming.graph("bench", "base"))
            twin.store.load(nt("derived", [p for _, p in derived]), format="ntriples", graph=twin.naming.graph("bench", "derived"))
            spec = parse_spec(SPEC.replace("source: {", "source: {graphs: [derived], ").replace("target: {", "target: {graphs: [base], ").replace("match:", "crs: EPSG:2154\nmatch:"))
            t0 = time.perf_counter()
            summary = run_links(twin, "bench", spec)
            total = time.perf_counter() - t0
        finally:
            twin.close()
    links = summary["accepted"] + summary["review"]
    return {"sources": summary["sources"], "targets": summary["targets"], "links": links, "read_s": summary["seconds"]["read"],
            "match_s": summary["seconds"]["match"], "total_s": total, "links_per_s": links / total}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="footprints per side (default 100000)")
    ap.add_argument("--store", type=int, default=0, help="also run through the store (run_links) with this many footprints per side")
    a = ap.parse_args()
    m = run(a.n)
    print(f"| sides | candidates after blocking | links | blocking | matching (block + score + select) | links/s | brute force (baseline, same run) | speed-up | P / R / F1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {m['sources']:,} × {m['targets']:,} | {m['candidates']:,} | {m['links']:,} ({m['accepted']:,} accepted) | {m['block_s']:.2f} s | {m['match_s']:.2f} s | "
          f"**{m['links_per_s']:,.0f}** | {m['baseline_pairs_per_s']:,.0f} pairs/s → {m['baseline_s'] / 3600:,.1f} h | {m['speedup']:,.0f}× | "
          f"{m['precision']:.3f} / {m['recall']:.3f} / {m['f1']:.3f} |")
    if a.store:
        s = run_store(a.store)
        print(f"\nthrough the store (run_links, {s['sources']:,} × {s['targets']:,}, CRS84 WKT reprojected to EPSG:2154): "
              f"read {s['read_s']:.1f} s, match {s['match_s']:.1f} s, total {s['total_s']:.1f} s (links graph written) = {s['links_per_s']:,.0f} links/s")


if __name__ == "__main__":
    main()
