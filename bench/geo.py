"""Spatial index speed-up: index-backed filters vs the plain ``FILTER(geof:…)`` scan, same run, same data.

    python -m bench.geo                      # 100k features, prints a markdown table
    python -m bench.geo --features 20000 --runs 3

The territory: ``--features`` buildings (footprints 10-40 m squares, like BD TOPO) scattered over
~12 x 11 km around Grenoble, each ``a bot:Building ; geo:hasDefaultGeometry g . g geo:asWKT "POLYGON …"``,
in one project graph of a twin on an in-memory store. Each query runs

* ``scan (built-in)``: the plain query on a store where ``geof:sf*`` are pyoxigraph's own (Rust) relations
  (``KG_TWIN_CRS_RELATIONS=false``; ``geof:distance`` is always kg-twin's);
* ``scan (default)``: the plain query with the deployment's default functions (CRS-aware shapely relations);
* ``index``: :meth:`kg_twin.geo.index.SpatialIndex.rewrite` (the ``VALUES`` pre-filter) + the rewritten
  query, default functions - what the project endpoint and the named queries run.

Printed: median wall times (scans: ``--scan-runs``, index: ``--runs``), the speed-ups index vs each scan,
whether the answers are identical, the rows; then the index build time (cold) and the rebuild after a
one-feature write (change feed). Also a named query (find-features-near-point) through
:func:`kg_twin.catalog.run.run` with and without the index.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from typing import Any, Callable

from kg_twin.service import Twin, create_twin
from kg_twin.settings import Settings
from kg_twin.store import QueryRequest

G = "http://www.opengis.net/ont/geosparql#"
P = """PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX geof: <http://www.opengis.net/def/function/geosparql/>
PREFIX uom: <http://www.opengis.net/def/uom/OGC/1.0/>
PREFIX bot: <https://w3id.org/bot#>
"""
X0, Y0, DX, DY = 5.70, 45.15, 0.15, 0.10
QUERIES: list[tuple[str, str]] = [
    ("features within this polygon (500 x 550 m)",
     'SELECT ?f WHERE { ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . '
     'FILTER(geof:sfWithin(?w, "POLYGON((5.770 45.190, 5.7765 45.190, 5.7765 45.195, 5.770 45.195, 5.770 45.190))"^^geo:wktLiteral)) }'),
    ("within 200 m of this point",
     'SELECT ?f WHERE { ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . '
     'FILTER(geof:distance(?w, "POINT(5.78 45.2)"^^geo:wktLiteral, uom:metre) <= 200) }'),
    ("intersecting this bbox (470 x 550 m)",
     'SELECT ?f WHERE { ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . '
     'FILTER(geof:sfIntersects(?w, "POLYGON((5.750 45.170, 5.756 45.170, 5.756 45.175, 5.750 45.175, 5.750 45.170))"^^geo:wktLiteral)) }'),
    ("buildings within this polygon, with class join (1.3 x 1.1 km)",
     'SELECT ?f WHERE { ?f a bot:Building ; geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . '
     'FILTER(geof:sfWithin(?w, "POLYGON((5.80 45.21, 5.8165 45.21, 5.8165 45.22, 5.80 45.22, 5.80 45.21))"^^geo:wktLiteral)) }'),
]


def ntriples(n: int, seed: int = 42) -> bytes:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        x, y = X0 + rnd.random() * DX, Y0 + rnd.random() * DY
        d = rnd.uniform(0.00013, 0.0005)
        wkt = f"POLYGON(({x:.7f} {y:.7f}, {x + d:.7f} {y:.7f}, {x + d:.7f} {y + d:.7f}, {x:.7f} {y + d:.7f}, {x:.7f} {y:.7f}))"
        f, g = f"<http://example.org/city/b{i}>", f"<http://example.org/city/b{i}/footprint>"
        out.append(f"{f} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/bot#Building> .\n"
                   f"{f} <{G}hasDefaultGeometry> {g} .\n{g} <{G}asWKT> \"{wkt}\"^^<{G}wktLiteral> .\n")
    return "".join(out).encode()


def make_twin(data: bytes, crs_relations: bool) -> Twin:
    twin = create_twin(Settings(store="memory", data_dir=tempfile.mkdtemp(prefix="bench-geo-"), crs_relations=crs_relations, query_timeout_s=3600))
    twin.projects.create("city")
    twin.store.load(data, format="ntriples", graph=twin.naming.graph("city", "buildings"))
    twin.notify("city")
    return twin


def answer(twin: Twin, text: str) -> list[str]:
    res = twin.store.query(QueryRequest(text, dataset=twin.query_dataset("city"), result_format="json"))
    return sorted(b["f"]["value"] for b in json.loads(res.body)["results"]["bindings"])


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    """(median wall time, median CPU time of this process, last result) of ``runs`` calls. The store is
    in memory and queries run in the calling thread, so CPU time is the work done, whatever else the
    machine runs; wall time includes waiting for the CPU on a loaded machine."""
    walls, cpus, out = [], [], None
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        cpus.append(time.process_time() - c)
        walls.append(time.perf_counter() - w)
    return statistics.median(walls), statistics.median(cpus), out


def ms(v: float) -> str:
    return f"{v * 1000:,.0f}" if v >= 0.1 else f"{v * 1000:,.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--features", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=7, help="runs of each indexed query (median)")
    ap.add_argument("--scan-runs", type=int, default=1, help="runs of each plain scan (median)")
    a = ap.parse_args(argv)

    data = ntriples(a.features)
    t = time.perf_counter()
    default = make_twin(data, crs_relations=True)
    builtin = make_twin(data, crs_relations=False)
    load_s = time.perf_counter() - t
    build_s, build_cpu, _ = timed(lambda: default.spatial.tree("city"), 1)

    print(f"\n{a.features:,} features ({3 * a.features:,} triples; two stores loaded in {load_s:.1f} s); "
          f"index built in {build_s:.2f} s ({build_cpu:.2f} s CPU); scans: median of {a.scan_runs}, index: median of {a.runs}")
    print(f"load average at start: {' / '.join(f'{v:.1f}' for v in os.getloadavg())} ({os.cpu_count()} CPUs)\n")
    print("| query | rows | scan, built-in sf* (ms wall / CPU) | scan, default (ms wall / CPU) | index: rewrite + query (ms wall / CPU) "
          "| speed-up vs built-in scan (wall / CPU) | speed-up vs default scan (wall / CPU) | identical |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    worst = float("inf")
    for name, q in QUERIES:
        text = P + q
        tw_default, tc_default, r_default = timed(lambda: answer(default, text), a.scan_runs)
        if "sf" in q:
            tw_native, tc_native, r_native = timed(lambda: answer(builtin, text), a.scan_runs)
        else:  # geof:distance is kg-twin's in both stores: the same scan
            tw_native, tc_native, r_native = tw_default, tc_default, r_default
        tw_index, tc_index, r_index = timed(lambda: answer(default, default.spatial.rewrite(text, ["city"])), a.runs)
        same = r_native == r_default == r_index
        worst = min(worst, tc_native / tc_index)
        print(f"| {name} | {len(r_index)} | {ms(tw_native)} / {ms(tc_native)} | {ms(tw_default)} / {ms(tc_default)} | {ms(tw_index)} / {ms(tc_index)} "
              f"| {tw_native / tw_index:,.0f}x / {tc_native / tc_index:,.0f}x | {tw_default / tw_index:,.0f}x / {tc_default / tc_index:,.0f}x | {'yes' if same else 'NO'} |")

    # the named query through the catalogue runner, with and without the index
    from kg_twin.catalog.run import run

    spec = default.catalog.get("find-features-near-point")
    args = [("point", "POINT(5.78 45.2)"), ("metres", "200")]
    tw_plain, tc_plain, plain = timed(lambda: json.loads(run(default, "city", spec, args).body)["results"]["bindings"], a.scan_runs)
    tw_idx, tc_idx, idx = timed(lambda: json.loads(run(default, "city", spec, args, spatial=default.spatial).body)["results"]["bindings"], a.runs)
    print(f"| named query find-features-near-point (200 m) | {len(idx)} | - | {ms(tw_plain)} / {ms(tc_plain)} | {ms(tw_idx)} / {ms(tc_idx)} | - "
          f"| {tw_plain / tw_idx:,.0f}x / {tc_plain / tc_idx:,.0f}x | {'yes' if plain == idx else 'NO'} |")

    # keeping the tree current: one more feature, the change feed marks the tree stale, next lookup rebuilds
    extra = f'<http://example.org/city/new> <{G}hasDefaultGeometry> <http://example.org/city/new/g> .\n<http://example.org/city/new/g> <{G}asWKT> "POINT(5.7701 45.1901)"^^<{G}wktLiteral> .\n'
    default.store.load(extra.encode(), format="ntriples", graph=default.naming.graph("city", "late"))
    default.notify("city")
    rebuild_s, _, _ = timed(lambda: default.spatial.tree("city"), 1)
    seen = "http://example.org/city/new" in answer(default, default.spatial.rewrite(P + QUERIES[0][1], ["city"]))
    print(f"\nindex cold build {build_s:.2f} s; rebuild after a one-feature write {rebuild_s:.2f} s (literals already parsed are reused); "
          f"new feature found through the index: {'yes' if seen else 'NO'}; smallest CPU-time speed-up vs the built-in scan: {worst:,.0f}x")
    default.close()
    builtin.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
