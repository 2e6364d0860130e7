"""Table handler throughput: read + propose + map of a generated point list.

    /work/venv/bin/python bench/tables.py [--rows 50000]

Names combine equipment (AHU-n, VAV-f-nn, RMnnn) with common point abbreviations and a serial,
so every name is unique but patterns repeat, as in real BMS exports.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kg_twin.ingest.base import MapContext  # noqa: E402
from kg_twin.ingest.labels import brick_index  # noqa: E402
from kg_twin.ingest.mappers.table import TABLE  # noqa: E402
from kg_twin.rdf import NTriplesWriter  # noqa: E402
from kg_twin.terms import Naming  # noqa: E402

POINTS = ["SA-TEMP", "RA-TEMP", "MA-TEMP", "OA-TEMP", "SA-TEMP-SP", "ZN-T", "ZN-T-SP", "DMPR-CMD", "SA-FLOW", "SA-P",
          "RA-RH", "CO2", "FAN-STS", "FAN-CMD", "VLV-CMD", "CHWS-T", "HWS-T", "KW", "KWH", "OCC"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    a = ap.parse_args()
    rnd = random.Random(1)
    lines = ["Point Name,Description,Units,Area"]
    for i in range(a.rows):
        eq = rnd.choice([f"AHU-{rnd.randint(1, 20)}", f"VAV-{rnd.randint(1, 9)}-{rnd.randint(1, 40):02d}", f"RM{rnd.randint(100, 500)}"])
        lines.append(f"{eq} {rnd.choice(POINTS)} {i},desc,degF,{rnd.random() * 100:.2f}")
    t0 = time.perf_counter()
    brick_index()
    t_index = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "points.csv"
        p.write_text("\n".join(lines) + "\n")
        ctx = MapContext(Naming("http://twin.test/"), "bench", "http://twin.test/source/bench/points", p.name)
        t0 = time.perf_counter()
        recs = list(TABLE.read(p))
        t1 = time.perf_counter()
        m = TABLE.propose(recs, ctx)
        t2 = time.perf_counter()
        w, rejects = NTriplesWriter(), 0
        for x in TABLE.map(recs, m, ctx):
            if isinstance(x, tuple):
                w.add(*x)
            else:
                rejects += 1
        t3 = time.perf_counter()
    print(f"{'step':24s} {'seconds':>8s}")
    for name, dt in (("Brick index (once)", t_index), ("read", t1 - t0), ("propose", t2 - t1), ("map + N-Triples", t3 - t2)):
        print(f"{name:24s} {dt:8.2f}")
    print(f"\n{a.rows:,} rows -> {w.count:,} triples, {rejects} rejects; {a.rows / (t3 - t0):,.0f} rows/s (read+propose+map)")


if __name__ == "__main__":
    main()
