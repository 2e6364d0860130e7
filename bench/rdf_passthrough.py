"""RDF pass-through vs raw pyoxigraph bulk load.

    /work/venv/bin/python bench/rdf_passthrough.py [--triples 1000000]

Generates a Brick-like N-Triples file (points with type, label, isPointOf, unit), then times
(a) raw ``pyoxigraph.Store().bulk_load`` into a named graph and (b) ``RdfHandler.stage`` through
the project's store (bulk load into the staging graph + the alignment update). Prints both and
the ratio raw/handler (target >= 0.5).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402  (benchmarks may use the engine directly)

from kg_twin.ingest.base import MapContext  # noqa: E402
from kg_twin.ingest.mappers.rdf import RDF_HANDLER  # noqa: E402
from kg_twin.settings import Settings  # noqa: E402
from kg_twin.store.base import open_store  # noqa: E402
from kg_twin.terms import Naming  # noqa: E402

B = "https://brickschema.org/schema/Brick#"


def generate(path: Path, n_triples: int) -> int:
    n = 0
    with open(path, "w") as fh:
        i = 0
        while n < n_triples:
            s = f"<http://ex.org/bldg/point{i}>"
            fh.write(f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{B}Zone_Air_Temperature_Sensor> .\n")
            fh.write(f'{s} <http://www.w3.org/2000/01/rdf-schema#label> "VAV-{i // 10}-{i % 10} ZN-T" .\n')
            fh.write(f"{s} <{B}isPointOf> <http://ex.org/bldg/vav{i // 10}> .\n")
            fh.write(f"{s} <{B}hasUnit> <http://qudt.org/vocab/unit/DEG_F> .\n")
            n += 4
            i += 1
    return n


def run_raw(f: Path, tmp: Path) -> float:
    t0 = time.perf_counter()
    st = ox.Store(str(tmp))
    st.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("http://ex.org/g"))
    st.flush()
    dt = time.perf_counter() - t0
    del st
    return dt


def run_handler(f: Path, tmp: Path) -> tuple[float, float, int]:
    store = open_store(Settings(data_dir=tmp, store="oxigraph"))
    ctx = MapContext(Naming("http://twin.test/"), "bench", "http://twin.test/source/bench/points", "points.nt")
    g = Naming("http://twin.test/").staging_graph("bench", "points")
    t0 = time.perf_counter()
    size = RDF_HANDLER.stage(store, f, g, ctx)
    total = time.perf_counter() - t0
    # the alignment update alone, on the already loaded graph (it is idempotent)
    t1 = time.perf_counter()
    store.update(RDF_HANDLER.alignment_update(g, ctx))
    align = time.perf_counter() - t1
    store.close()
    return total, align, size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--triples", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    raws, handlers, aligns = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "points.nt"
        n = generate(f, a.triples)
        mb = f.stat().st_size / 1e6
        size = 0
        for i in range(a.repeat):  # alternate the two paths so machine noise hits both
            raws.append(run_raw(f, Path(tmp) / f"raw{i}"))
            total, align, size = run_handler(f, Path(tmp) / f"twin{i}")
            handlers.append(total)
            aligns.append(align)
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    raw, handler, align = med(raws), med(handlers), med(aligns)
    print(f"{'path (median of %d)' % a.repeat:40s} {'seconds':>8s} {'triples/s':>12s}")
    print(f"{'raw pyoxigraph bulk_load':40s} {raw:8.2f} {n / raw:12,.0f}")
    print(f"{'RdfHandler.stage (load + alignment)':40s} {handler:8.2f} {n / handler:12,.0f}")
    print(f"{'  of which the alignment update':40s} {align:8.2f}")
    print(f"\n{n:,} triples ({mb:.0f} MB N-Triples) -> {size:,} in the staging graph "
          f"({size - n:,} kgt:source added); handler speed = {raw / handler:.2f} x raw (target >= 0.5)")
    print("runs (raw / handler): " + ", ".join(f"{r:.1f}/{h:.1f}" for r, h in zip(raws, handlers)))


if __name__ == "__main__":
    main()
