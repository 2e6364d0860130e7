"""Structuring: point-name classification (leave-one-building-out) and handler throughput.

First the point-name table (``bench/label_lobo.py``): per building of the corpus, the learned model
trained on the other buildings vs. the rule classifier, in the same run (strict / entailing top-1,
top-3, macro-F1, accuracy of flagged vs. unflagged assignments). Then the throughput of the GIS
(shapefile, GeoPackage) / CityJSON / IFC / document handlers.

    python -m bench.structuring                 # both (several minutes)
    python -m bench.structuring --labels-only   # the classifier table only
    python -m bench.structuring --no-labels     # the throughput table only

For each source type: read (file -> records), propose (mapping), map (records -> typed triples,
serialized to N-Triples). Prints one row per source with records/s and triples/s over the whole
read + propose + map chain (wall clock, median of the repetitions; ``cpu_s`` is the process CPU
time, steadier than wall time on a busy machine).

    python bench/structuring.py            # 3 repetitions, plus an 8x BD TOPO GeoJSON (18,184 features)
    python bench/structuring.py --quick    # 1 repetition (a few seconds)

``run(quick) -> rows`` returns the rows as dicts for other tools.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg_twin.ingest.base import MapContext  # noqa: E402
from kg_twin.ingest.mappers.documents import triples_lookup  # noqa: E402
from kg_twin.ingest.readers.cityjson import HANDLER as CITYJSON  # noqa: E402
from kg_twin.ingest.readers.document import HANDLER as DOCUMENT  # noqa: E402
from kg_twin.ingest.readers.geojson import HANDLER as GEOJSON  # noqa: E402
from kg_twin.ingest.readers.geopackage import HANDLER as GEOPACKAGE  # noqa: E402
from kg_twin.ingest.readers.ifc import HANDLER as IFC  # noqa: E402
from kg_twin.ingest.readers.shapefile import HANDLER as SHAPEFILE  # noqa: E402
from kg_twin.models import Record  # noqa: E402
from kg_twin.rdf import NTriplesWriter  # noqa: E402
from kg_twin.terms import Naming  # noqa: E402

DATA = ROOT / "tests" / "data"


def _ctx(name: str, **options: Any) -> MapContext:
    return MapContext(naming=Naming("http://bench.example/"), project="bench",
                      source_iri="http://bench.example/id/bench/source/0", source_name=name, options=options)


def _once(handler: Any, paths: list[Path], **options: Any) -> tuple[int, int, int, float, float, float]:
    """(records, rejects, triples, read seconds, propose+map seconds, CPU seconds) over all paths."""
    n_rec = n_rej = n_tri = 0
    t_read = t_map = 0.0
    c0 = time.process_time()
    for p in paths:
        ctx = _ctx(p.name, **options)
        t0 = time.perf_counter()
        items = list(handler.read(p))
        t1 = time.perf_counter()
        records = [r for r in items if isinstance(r, Record)]
        mapping = handler.propose(records, ctx)
        w = NTriplesWriter()
        for x in handler.map(records, mapping, ctx):
            if isinstance(x, tuple):
                w.add(*x)
            else:
                n_rej += 1
        w.getvalue()
        t2 = time.perf_counter()
        n_rec += len(records)
        n_rej += len(items) - len(records)
        n_tri += w.count
        t_read += t1 - t0
        t_map += t2 - t1
    return n_rec, n_rej, n_tri, t_read, t_map, time.process_time() - c0


def _documents(tmp: Path, n: int) -> list[Path]:
    from pypdf import PdfWriter

    out = []
    for i in range(n):
        p = tmp / f"AHU-{i}_manual.pdf"
        w = PdfWriter()
        w.add_blank_page(width=595, height=842)
        w.add_metadata({"/Title": f"AHU-{i} manual", "/CreationDate": "D:20240101120000Z"})
        with open(p, "wb") as fh:
            w.write(fh)
        out.append(p)
    return out + sorted(q for q in (DATA / "geo").iterdir()) + [DATA / "ifc" / "Duplex_A.ifc"]


def _scaled_geojson(tmp: Path, copies: int) -> Path:
    """BD TOPO BATIMENT repeated ``copies`` times (ids suffixed) as one CRS84 GeoJSON: a bigger layer."""
    import json

    import numpy as np
    import pyproj
    import shapely
    from shapely.geometry import mapping, shape

    recs = [r for r in SHAPEFILE.read(DATA / "geo" / "bdtopo_batiment_olemps.zip") if isinstance(r, Record)]
    tr = pyproj.Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True)
    geoms = [shapely.transform(shape(r.fields["geometry"]), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
             for r in recs]
    feats = []
    for c in range(copies):
        for r, g in zip(recs, geoms):
            props = dict(r.fields["properties"], ID=f"{r.fields['properties']['ID']}-{c}")
            feats.append({"type": "Feature", "geometry": mapping(g), "properties": props})
    p = tmp / f"batiment_x{copies}.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "name": "BATIMENT", "features": feats}))
    return p


def run(quick: bool = False) -> list[dict[str, Any]]:
    reps = 1 if quick else 3
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        docs = _documents(Path(tmp), 20 if quick else 100)
        labels = triples_lookup([])
        cases = [
            ("shapefile (BD TOPO BATIMENT, zip)", SHAPEFILE, [DATA / "geo" / "bdtopo_batiment_olemps.zip"], {}),
            ("shapefile (COMMUNE + ZONES)", SHAPEFILE, [DATA / "geo" / "COMMUNE.shp", DATA / "geo" / "ZONE_D_ACTIVITE_OU_D_INTERET.shp"], {}),
            ("GeoPackage (COMMUNE + ZONES, 2 layers)", GEOPACKAGE, [DATA / "geo" / "olemps_commune_zones.gpkg"], {}),
            ("CityJSON (Rotterdam, 16 LoD2)", CITYJSON, [DATA / "cityjson" / "rotterdam_subset.json"], {"crs": "EPSG:28992"}),
            ("IFC2X3 (Duplex_A, 1.7 MB)", IFC, [DATA / "ifc" / "Duplex_A.ifc"], {}),
            (f"documents ({len(docs)} files)", DOCUMENT, docs, {"lookup": labels}),
        ]
        if not quick:
            big = _scaled_geojson(Path(tmp), 8)
            cases.insert(1, ("GeoJSON (BD TOPO BATIMENT x8, CRS84)", GEOJSON, [big], {}))
        for name, handler, paths, options in cases:
            runs = [_once(handler, paths, **options) for _ in range(reps)]
            rec, rej, tri = runs[0][:3]
            total = statistics.median(r[3] + r[4] for r in runs)
            read = statistics.median(r[3] for r in runs)
            cpu = statistics.median(r[5] for r in runs)
            rows.append({
                "source": name,
                "records": rec,
                "rejects": rej,
                "triples": tri,
                "read_s": round(read, 3),
                "total_s": round(total, 3),
                "cpu_s": round(cpu, 3),
                "records_per_s": round(rec / total) if total else None,
                "triples_per_s": round(tri / total) if total else None,
            })
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one repetition, fewer documents")
    ap.add_argument("--labels-only", action="store_true", help="only the point-name classifier table")
    ap.add_argument("--no-labels", action="store_true", help="only the throughput table")
    ap.add_argument("--building", action="append", help="score only this building (repeatable)")
    args = ap.parse_args(argv)
    if not args.no_labels:
        from bench.label_lobo import report, run as run_labels

        print(report(run_labels(args.building)), flush=True)
        print()
    if args.labels_only:
        return 0
    rows = run(args.quick)
    cols = ["source", "records", "rejects", "triples", "read_s", "total_s", "cpu_s", "records_per_s", "triples_per_s"]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) if c == "source" else c.rjust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) if c == "source" else str(r[c]).rjust(widths[c]) for c in cols))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
