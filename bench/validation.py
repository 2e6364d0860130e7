"""SHACL validation benchmark: kgtwin engine vs pyshacl on synthetic twin data.

Data: buildings -> storeys (BOT + Brick) -> spaces -> one VAV each with three Brick points
(temperature sensor and setpoint with QUDT units, damper command), every entity with
rdfs:label, kgt:source and kgt:origin; about 1 % of the entities break a shape.
Shapes: the library sets core/entity, brick/points and bot/topology (6 node shapes,
9 property shapes); class hierarchy from Brick 1.4 (rdfs:subClassOf only, for both engines).

Each (engine, scale) runs in a fresh subprocess so peak memory (max RSS) is its own.
The two engines' result sets are asserted equal at every scale where both run.

    python -m bench.validation            # 10k, 100k, 1M (pyshacl at 1M takes ~1-2 min)
    python -m bench.validation --quick    # 10k and 30k, seconds
    python -m bench.validation --no-pyshacl-1m
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = ["core/entity", "brick/points", "bot/topology"]
B = "https://brickschema.org/schema/Brick#"
BOT = "https://w3id.org/bot#"
KGT = "https://w3id.org/kg-twin/ontology#"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
UNIT = "http://qudt.org/vocab/unit/"
TRIPLES_PER_SPACE = 29  # measured average, used to size the data


def generate(n_triples: int) -> bytes:
    """N-Triples of a synthetic twin with about ``n_triples`` triples."""
    base = "https://twin.example.org/id/bench/"
    src = f"<{base}source/registers.csv>"
    out: list[str] = [f"{src} {RDF_TYPE} <{KGT}Source> .", f'{src} {LABEL} "registers.csv" .']
    n_spaces = max(1, n_triples // TRIPLES_PER_SPACE)
    counter = 0

    def entity(iri: str, types: list[str], label: str | None) -> None:
        nonlocal counter
        counter += 1
        for t in types:
            out.append(f"{iri} {RDF_TYPE} <{t}> .")
        if label is not None and counter % 101:
            out.append(f'{iri} {LABEL} "{label}" .')
        out.append(f"{iri} <{KGT}source> {src} .")
        out.append(f'{iri} <{KGT}origin> "registers.csv row {counter}" .')

    s = 0
    b = 0
    while s < n_spaces:
        bi = f"<{base}building/B{b}>"
        entity(bi, [BOT + "Building", B + "Building"], f"Building {b}")
        for f in range(4):
            fi = f"<{base}storey/B{b}-F{f}>"
            entity(fi, [BOT + "Storey", B + "Floor"], f"B{b} floor {f}")
            out.append(f"{bi} <{BOT}hasStorey> {fi} .")
            for r in range(10):
                if s >= n_spaces:
                    break
                s += 1
                ri = f"<{base}space/B{b}-F{f}-R{r}>"
                entity(ri, [BOT + "Space", B + "Room"], f"Room {b}.{f}.{r}")
                if s % 113:
                    out.append(f"{fi} <{BOT}hasSpace> {ri} .")
                vi = f"<{base}equipment/VAV-{b}-{f}-{r}>"
                entity(vi, [B + "VAV"], f"VAV {b}.{f}.{r}")
                out.append(f"{vi} <{B}feeds> {ri} .")
                for kind, cls, unit in (
                    ("ZNT", "Zone_Air_Temperature_Sensor", "DEG_C"),
                    ("ZNT-SP", "Zone_Air_Temperature_Setpoint", "DEG_C"),
                    ("DPR-C", "Damper_Position_Command", None),
                ):
                    pi = f"<{base}point/{b}-{f}-{r}-{kind}>"
                    entity(pi, [B + cls], f"VAV {b}.{f}.{r} {kind}")
                    if counter % 97:
                        out.append(f"{pi} <{B}isPointOf> {vi} .")
                    if unit is not None:
                        if counter % 89 == 0:
                            out.append(f"{pi} <{B}hasUnit> <http://example.org/units/celsius> .")
                        elif counter % 83:
                            out.append(f"{pi} <{B}hasUnit> <{UNIT}{unit}> .")
        b += 1
    return ("\n".join(out) + "\n").encode()


def brick_subclass_nt(cache: Path) -> Path:
    """Brick's rdfs:subClassOf triples as N-Triples (the closure both engines get)."""
    if cache.is_file():
        return cache
    import pyoxigraph as ox

    from kg_twin.validation.shapes import brick_ontology_file

    st = ox.Store()
    st.bulk_load(path=str(brick_ontology_file()), format=ox.RdfFormat.TURTLE)
    sub = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
    lines = [f"{q.subject} {q.predicate} {q.object} ." for q in st.quads_for_pattern(None, sub, None) if not isinstance(q.object, ox.BlankNode) and not isinstance(q.subject, ox.BlankNode)]
    cache.write_text("\n".join(lines) + "\n")
    return cache


def _child(engine: str, data: str, closure: str, out: str) -> None:
    """Runs in a subprocess: load, validate, write timings and the result keys."""
    import resource

    import rdflib

    from kg_twin.validation.shapes import load_shapes

    shapes = load_shapes(SETS)
    t0 = time.perf_counter()
    if engine == "kgtwin":
        from kg_twin.store.view import CLOSURE_GRAPH, DATA_GRAPH, ShaclView
        from kg_twin.validation.validator import validate_view

        view = ShaclView.empty()
        view.load_file(data, DATA_GRAPH, "nt")
        view.load_file(closure, CLOSURE_GRAPH, "nt")
        t1 = time.perf_counter()
        outcome = validate_view(view, shapes, engine="kgtwin")
        results = outcome.results
        keys = sorted({json.dumps([str(r.focus).strip("<>"), str(r.shape) if isinstance(r.shape, rdflib.URIRef) else _bn(shapes, r.shape), str(r.component), str(r.value).strip("<>") if r.value is not None else ""]) for r in results})
    else:
        import pyshacl

        g = rdflib.Graph()
        g.parse(data, format="nt")
        g.parse(closure, format="nt")
        t1 = time.perf_counter()
        _c, rg, _t = pyshacl.validate(g, shacl_graph=shapes, inference="none")
        SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
        res = list(rg.objects(None, SH.result))
        results = res
        keys = sorted({json.dumps([str(rg.value(r, SH.focusNode)), str(rg.value(r, SH.sourceShape)) if isinstance(rg.value(r, SH.sourceShape), rdflib.URIRef) else _bn(shapes, rg.value(r, SH.sourceShape)), str(rg.value(r, SH.sourceConstraintComponent)), str(rg.value(r, SH.value) or "")]) for r in res})
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(out).write_text(json.dumps({"load_s": t1 - t0, "validate_s": t2 - t1, "results": len(results), "peak_mb": rss, "keys": keys}))


def _bn(shapes, node) -> str:
    """A stable name for a blank property shape: parent shape + path."""
    SH = "http://www.w3.org/ns/shacl#"
    import rdflib

    parent = next(iter(shapes.subjects(rdflib.URIRef(SH + "property"), node)), None)
    path = shapes.value(node, rdflib.URIRef(SH + "path"))
    return f"{parent}/{path if isinstance(path, rdflib.URIRef) else 'complex'}"


def run_one(engine: str, data: Path, closure: Path) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    try:
        subprocess.run([sys.executable, "-m", "bench.validation", "--child", engine, str(data), str(closure), out], check=True, cwd=ROOT)
        return json.loads(Path(out).read_text())
    finally:
        os.unlink(out)


def run(scale: int | None = None, quick: bool = False, *, pyshacl: bool = True, workdir: Path | None = None) -> list[dict]:
    """Benchmark one scale (triples), or every scale when ``scale`` is None (quick: 10k and 30k;
    else 10k, 100k, 1M); one row per engine and scale. Asserts equal result sets."""
    if scale is None:
        rows: list[dict] = []
        for s in ([10_000, 30_000] if quick else [10_000, 100_000, 1_000_000]):
            rows += run(s, quick, pyshacl=pyshacl, workdir=workdir)
        return rows
    workdir = workdir or Path(tempfile.gettempdir()) / "kg-twin-bench"
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / f"twin-{scale}.nt"
    if not data.is_file():
        data.write_bytes(generate(scale))
    closure = brick_subclass_nt(workdir / "brick-subclass.nt")
    n = sum(1 for _ in data.open("rb"))
    rows = []
    res = {"kgtwin": run_one("kgtwin", data, closure)}
    if pyshacl:
        res["pyshacl"] = run_one("pyshacl", data, closure)
        if res["kgtwin"]["keys"] != res["pyshacl"]["keys"]:
            a, b = set(res["kgtwin"]["keys"]), set(res["pyshacl"]["keys"])
            raise AssertionError(f"result sets differ at {scale}: only kgtwin {sorted(a - b)[:5]}, only pyshacl {sorted(b - a)[:5]}")
    for eng, r in res.items():
        rows.append({"scale": scale, "triples": n, "engine": eng, "load_s": round(r["load_s"], 2), "validate_s": round(r["validate_s"], 2), "results": r["results"], "distinct_results": len(r["keys"]), "peak_mb": round(r["peak_mb"])})
    if pyshacl:
        for row in rows:
            row["speedup"] = round(res["pyshacl"]["validate_s"] / res["kgtwin"]["validate_s"], 1) if row["engine"] == "kgtwin" else 1.0
    return rows


def table(rows: list[dict]) -> str:
    head = "| triples | engine | load (s) | validate (s) | results | peak RSS (MB) | speed-up |\n|---:|---|---:|---:|---:|---:|---:|"
    lines = [head]
    for r in rows:
        lines.append(f"| {r['triples']:,} | {r['engine']} | {r['load_s']} | {r['validate_s']} | {r['results']} | {r['peak_mb']} | {r.get('speedup', '')}{'x' if r.get('speedup') else ''} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        _child(*argv[1:5])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k and 30k triples only")
    ap.add_argument("--scales", type=int, nargs="*")
    ap.add_argument("--no-pyshacl-1m", action="store_true", help="skip pyshacl at 1M triples")
    a = ap.parse_args(argv)
    scales = a.scales or ([10_000, 30_000] if a.quick else [10_000, 100_000, 1_000_000])
    rows = []
    for s in scales:
        rows += run(s, a.quick, pyshacl=not (a.no_pyshacl_1m and s >= 1_000_000))
        print(table(rows), flush=True) if s == scales[-1] else None
    return None


if __name__ == "__main__":
    main()
