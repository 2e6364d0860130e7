"""Named-query catalogue benchmark.

1. Reading and checking the catalogue (every queries/*.rq, evaluated once on an empty store).
2. Latency of a named-query call vs the same SPARQL sent to the project's SPARQL endpoint,
   over HTTP on 127.0.0.1 (on-disk store, query workers), on a synthetic territory.
3. GeoSPARQL functions: kg_twin.geo.functions (shapely/pyproj, Python callbacks) vs the
   GeoSPARQL relations built into pyoxigraph (spargeo, Rust), same data, same query.

    python -m bench.catalog            # 5000 buildings
    python -m bench.catalog --quick    # 500 buildings
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GEO = "http://www.opengis.net/ont/geosparql#"
EX = "https://bench.example.org/"


def territory(n: int, seed: int = 7) -> bytes:
    """n buildings (square footprints ~20 m, around Grenoble), 3 storeys x 4 spaces, an AHU with 5 points."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        x, y = 5.70 + rnd.random() * 0.1, 45.15 + rnd.random() * 0.08
        d = 0.00025
        b = f"<{EX}b{i}>"
        out.append(f"{b} a <https://w3id.org/bot#Building> ; <http://www.w3.org/2000/01/rdf-schema#label> \"B{i}\" ; <{GEO}hasGeometry> <{EX}g{i}> .")
        out.append(f"<{EX}g{i}> <{GEO}asWKT> \"POLYGON(({x} {y}, {x + d} {y}, {x + d} {y + d}, {x} {y + d}, {x} {y}))\"^^<{GEO}wktLiteral> .")
        for s in range(3):
            st = f"<{EX}b{i}s{s}>"
            out.append(f"{b} <https://w3id.org/bot#hasStorey> {st} .")
            for r in range(4):
                out.append(f"{st} <https://w3id.org/bot#hasSpace> <{EX}b{i}s{s}r{r}> .")
        ahu = f"<{EX}ahu{i}>"
        out.append(f"{ahu} a <https://brickschema.org/schema/Brick#AHU> .")
        for p in range(5):
            pt = f"<{EX}ahu{i}p{p}>"
            out.append(f"{ahu} <https://brickschema.org/schema/Brick#hasPoint> {pt} .")
            out.append(f"{pt} a <https://brickschema.org/schema/Brick#Supply_Air_Temperature_Sensor> ; <https://brickschema.org/schema/Brick#lastKnownValue> [ <https://brickschema.org/schema/Brick#value> {20 + p}.5 ] .")
    return "\n".join(out).encode()


def paste(text: str, var: str, literal: str) -> str:
    """The hand-written equivalent: the value pasted into the text (first use = the projection)."""
    if "?" + var not in text:
        return text
    head, _, tail = text.partition("?" + var)
    out = head + f"({literal} AS ?{var})" + tail.replace("?" + var, literal)
    return out.replace(f" {literal}\nORDER BY", "\nORDER BY")  # a constant cannot be a GROUP BY key


def timed(fn, repeat: int) -> float:
    xs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        xs.append(time.perf_counter() - t0)
    return statistics.median(xs)


def bench_catalogue() -> list[tuple[str, str]]:
    from kg_twin.catalog.catalog import BUILTIN_DIR, Catalog

    t0 = time.perf_counter()
    cat = Catalog.from_directory(BUILTIN_DIR, strict=True)
    dt = time.perf_counter() - t0
    return [("read + check the catalogue", f"{len(cat.names())} queries in {dt * 1000:.0f} ms")]


def bench_http(n: int, repeat: int) -> list[tuple[str, str]]:
    import httpx
    import uvicorn

    from kg_twin.api.app import create_app
    from kg_twin.catalog.catalog import default_catalog
    from kg_twin.service import create_twin
    from kg_twin.settings import Settings

    tmp = tempfile.mkdtemp(prefix="kgt-bench-catalog-")
    s = Settings(data_dir=tmp, query_workers=2, query_timeout_s=60)
    twin = create_twin(s)
    twin.projects.create("bench")
    twin.store.load(territory(n), format="turtle", graph=twin.naming.graph("bench", "data"))
    tok = twin.access.tokens.create("bench", "reader").secret
    import socket

    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        port = so.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(s, twin=twin), host="127.0.0.1", port=port, log_level="warning", loop="asyncio"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    while not server.started:
        time.sleep(0.05)
    rows = []
    try:
        c = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {tok}", "Accept": "application/sparql-results+json"}, timeout=60)
        area = "POLYGON((5.74 45.18, 5.76 45.18, 5.76 45.20, 5.74 45.20, 5.74 45.18))"
        cases = [
            ("list-points-of-equipment", {"equipment": f"{EX}ahu{n // 2}"}, f"<{EX}ahu{n // 2}>", "_equipment_iri"),
            ("list-spaces-by-storey", {"building": f"{EX}b{n // 3}"}, f"<{EX}b{n // 3}>", "_building_iri"),
            ("find-buildings-in-area", {"area": area}, f'"{area}"^^<{GEO}wktLiteral>', "_area_geo_wktLiteral"),
        ]
        cat = default_catalog()
        for name, params, literal, var in cases:
            c.get(f"/projects/bench/queries/{name}", params=params)  # warm (snapshot, workers)
            t_named = timed(lambda: c.get(f"/projects/bench/queries/{name}", params=params).raise_for_status(), repeat)
            text = paste(paste(cat.get(name).text, var, literal), "__mode", '"intersects"')  # type: ignore[union-attr]
            if name == "list-spaces-by-storey":
                text += "\nLIMIT 100 OFFSET 0"
            t_sparql = timed(lambda: c.get("/projects/bench/sparql", params={"query": text}).raise_for_status(), repeat)
            nrows = len(c.get(f"/projects/bench/queries/{name}", params=params).json()["results"]["bindings"])
            rows.append((f"{name} ({nrows} rows)", f"named {t_named * 1000:.1f} ms, same SPARQL on /sparql {t_sparql * 1000:.1f} ms (x{t_named / t_sparql:.2f})"))
        c.close()
    finally:
        server.should_exit = True
        th.join(timeout=30)
        twin.close()
    return rows


def bench_geo(n: int, repeat: int) -> list[tuple[str, str]]:
    import pyoxigraph as ox

    from kg_twin.service import sparql_functions
    from kg_twin.settings import Settings
    from kg_twin.store.functions import oxigraph_functions

    st = ox.Store()
    st.load(territory(n), format=ox.RdfFormat.TURTLE)
    builtin = oxigraph_functions(sparql_functions(Settings()))  # kg_twin's default: pyoxigraph's own sf* relations
    funcs = oxigraph_functions(sparql_functions(Settings(crs_relations=True)))  # KG_TWIN_CRS_RELATIONS=true
    assert any("sfIntersects" in k.value for k in funcs) and not any("sfIntersects" in k.value for k in builtin)
    # the built-in (spargeo) relations are what pyoxigraph does without kg_twin's functions
    builtin = {k: v for k, v in funcs.items() if "sfIntersects" not in k.value}
    area = f'"POLYGON((5.74 45.18, 5.76 45.18, 5.76 45.20, 5.74 45.20, 5.74 45.18))"^^<{GEO}wktLiteral>'
    q_rel = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?g <{GEO}asWKT> ?w FILTER(<http://www.opengis.net/def/function/geosparql/sfIntersects>(?w, {area})) }}"
    q_dist = f'SELECT (COUNT(*) AS ?n) WHERE {{ ?g <{GEO}asWKT> ?w FILTER(<http://www.opengis.net/def/function/geosparql/distance>(?w, "POINT(5.75 45.19)"^^<{GEO}wktLiteral>) < 500) }}'

    def count(q: str, **kw: object) -> int:
        return int(next(iter(st.query(q, **kw)))["n"].value)  # type: ignore[index]

    n_builtin, n_ours = count(q_rel, custom_functions=builtin), count(q_rel, custom_functions=funcs)
    assert n_builtin == n_ours, (n_builtin, n_ours)
    t_builtin = timed(lambda: count(q_rel, custom_functions=builtin), repeat)
    t_ours = timed(lambda: count(q_rel, custom_functions=funcs), repeat)
    t_dist = timed(lambda: count(q_dist, custom_functions=funcs), repeat)
    return [
        (f"geof:sfIntersects over {n} footprints ({n_ours} hits)", f"opt-in shapely relations {t_ours * 1000:.0f} ms vs pyoxigraph built-in (default) {t_builtin * 1000:.0f} ms (x{t_ours / t_builtin:.2f})"),
        (f"geof:distance < 500 m over {n} footprints ({count(q_dist, custom_functions=funcs)} hits)", f"{t_dist * 1000:.0f} ms ({t_dist / n * 1e6:.0f} us per geometry)"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    n = 500 if a.quick else 5000
    repeat = 3 if a.quick else 7
    rows = bench_catalogue() + bench_geo(n, repeat) + bench_http(n, repeat)
    w = max(len(r[0]) for r in rows)
    print(f"| {'case'.ljust(w)} | result |")
    print(f"|{'-' * (w + 2)}|--------|")
    for k, v in rows:
        print(f"| {k.ljust(w)} | {v} |")


if __name__ == "__main__":
    main()
