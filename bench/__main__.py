"""Run every benchmark and regenerate docs/benchmarks.md.

    python -m bench            # full run (minutes)
    python -m bench --quick    # smoke run (seconds), used by a test to keep the harness alive

Absolute times drift on a shared 2-core machine; every table therefore shows a ratio against a
baseline measured in the same run on the same data. Everything stays on 127.0.0.1 with bounded loads,
and every process started here is stopped before the run ends.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"


# ----------------------------------------------------------------------------- helpers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_case(case: str, file: Path, work: Path) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "bench.cases", case, str(file), str(work)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"{case} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def table(headers: list[str], rows: list[list[Any]]) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.3g}" if abs(v) < 100 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def wait_http(url: str, timeout: float = 30) -> None:
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


# ----------------------------------------------------------------------------- 1. load
def bench_load(scales: list[int], repeats: int, work: Path) -> tuple[str, list[dict[str, Any]]]:
    from bench.generate import write

    rows = []
    curve = []
    for n in scales:
        f = work / f"district-{n}.nt"
        real = write(f, n)
        res: dict[str, list[dict[str, Any]]] = {}
        for case in ("raw_bulk", "kgtwin_bulk", "kgtwin_replace", "raw_transactional", "kgtwin_transactional"):
            if "transactional" in case and real > 150_000:
                continue  # one write transaction holding the whole graph: measured at small scales only
            for r in range(repeats):
                d = work / f"{case}-{n}-{r}"
                d.mkdir()
                res.setdefault(case, []).append(run_case(case, f, d))
                shutil.rmtree(d, ignore_errors=True)
        base = med([x["seconds"] for x in res["raw_bulk"]])
        for case, xs in res.items():
            secs = [x["seconds"] for x in xs]
            rows.append([f"{real:,}", case, med(secs), min(secs), max(secs), real / med(secs), base / med(secs), max(x["rss_mb"] for x in xs)])
        d = work / f"query-mix-{n}"
        d.mkdir()
        mix = run_case("query_mix", f, d)["query_ms"]
        shutil.rmtree(d, ignore_errors=True)
        curve.append({"triples": real, "raw_bulk_s": base, "kgtwin_bulk_s": med([x["seconds"] for x in res["kgtwin_bulk"]]), "kgtwin_rss_mb": max(x["rss_mb"] for x in res["kgtwin_bulk"]), "query_ms": mix})
        f.unlink()
    md = table(["triples", "path", "median s", "min s", "max s", "triples/s", "× raw bulk_load", "peak RSS MB"], rows)
    names = list(curve[0]["query_ms"]) if curve else []
    md += "\n\nQuery mix on the same data, in-process (engine + capped serialization, median of 5, ms):\n\n"
    md += table(["triples"] + names, [[f"{c['triples']:,}"] + [c["query_ms"][q] for q in names] for c in curve])
    return md, curve


# ----------------------------------------------------------------------------- 2. HTTP
QUERIES = {
    "point lookup": "SELECT ?p ?o WHERE { <http://localhost:8000/id/bench/building/B00003/storey/1/space/2/CO2> ?p ?o }",
    "3-hop building→storey→space→point": "PREFIX bot: <https://w3id.org/bot#> PREFIX brick: <https://brickschema.org/schema/Brick#> "
    "SELECT ?s ?sp ?pt WHERE { <http://localhost:8000/id/bench/building/B00002> bot:hasStorey ?s . ?s bot:hasSpace ?sp . ?pt brick:hasLocation ?sp }",
    "aggregation per building": "PREFIX bot: <https://w3id.org/bot#> SELECT ?b (COUNT(?sp) AS ?n) WHERE { ?b bot:hasStorey/bot:hasSpace ?sp } GROUP BY ?b ORDER BY DESC(?n) LIMIT 20",
    "label search": "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?s ?l WHERE { ?s rdfs:label ?l FILTER(CONTAINS(?l, \"RM101\")) } LIMIT 50",
    "geometry bbox (WKT in range)": "PREFIX geo: <http://www.opengis.net/ont/geosparql#> SELECT ?f ?w WHERE { ?f geo:hasDefaultGeometry/geo:asWKT ?w "
    "FILTER(STRSTARTS(STR(?w), \"POLYGON((2.35\")) } LIMIT 100",
    "CONSTRUCT one asset": "CONSTRUCT { <http://localhost:8000/id/bench/building/B00001/AHU-1> ?p ?o . ?pt ?q ?v } WHERE { "
    "<http://localhost:8000/id/bench/building/B00001/AHU-1> ?p ?o . OPTIONAL { ?pt <https://brickschema.org/schema/Brick#isPointOf> <http://localhost:8000/id/bench/building/B00001/AHU-1> . ?pt ?q ?v } }",
}


# ----------------------------------------------------------------------------- feature benches
# (title, module, extra args in quick mode, extra args in full mode): each feature bench is its own
# command (`python -m bench.X`) that prints its table; the harness runs it and keeps what it prints.
FEATURE_BENCHES = [
    ("SHACL validation: kg-twin engine vs pyshacl", "bench.validation", ["--quick"], []),
    ("Structuring: records/s and triples/s per source type", "bench.structuring", ["--quick"], []),
    ("Ingest end to end vs raw bulk load (RDF sources)", "bench.ingest", ["--quick"], []),
    ("Point-name → Brick class accuracy", "bench.labels", ["--review"], ["--review"]),
    ("Observations (live twin)", "bench.live", ["--quick"], []),
    ("Named queries", "bench.catalog", ["--quick"], []),
    ("Inference and consistency check", "bench.semantic", ["--runs", "1", "--scale", "0"], []),
]


def run_feature(module: str, args: list[str], timeout_s: float) -> str:
    try:
        importlib.import_module(module)
    except ImportError as e:
        return f"_not available in this build: {e}_"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        out = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return f"_timed out after {timeout_s:.0f} s_"
    if out.returncode != 0:
        return f"_failed (exit {out.returncode}):_\n\n```\n{out.stderr[-1500:]}\n```"
    return out.stdout.strip() or "_printed nothing_"


def plot_curve(curve: list[dict[str, Any]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    xs = [c["triples"] for c in curve]
    fig, ax = plt.subplots(1, 3, figsize=(15, 4))
    ax[0].loglog(xs, [c["raw_bulk_s"] for c in curve], "o-", label="pyoxigraph bulk_load")
    ax[0].loglog(xs, [c["kgtwin_bulk_s"] for c in curve], "s-", label="kg-twin load")
    ax[0].set_xlabel("triples")
    ax[0].set_ylabel("seconds")
    ax[0].legend()
    ax[0].set_title("load time")
    ax[1].semilogx(xs, [c["kgtwin_rss_mb"] for c in curve], "s-")
    ax[1].set_xlabel("triples")
    ax[1].set_ylabel("peak RSS (MB)")
    ax[1].set_title("kg-twin load memory")
    for q in curve[0].get("query_ms", {}):
        ax[2].loglog(xs, [max(c["query_ms"][q], 1e-3) for c in curve], "o-", label=q)
    ax[2].set_xlabel("triples")
    ax[2].set_ylabel("median ms")
    ax[2].set_title("query mix (in-process)")
    ax[2].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def machine() -> str:
    import pyoxigraph

    from kg_twin import __version__

    mem = ""
    try:
        mem = f"{int(open('/proc/meminfo').read().split()[1]) // 1024 // 1024} GiB"
    except OSError:
        pass
    return (
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · {platform.machine()} · {os.cpu_count()} cores · {mem} · "
        f"Python {platform.python_version()} · pyoxigraph {pyoxigraph.__version__} · kg-twin {__version__}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="seconds-long smoke run")
    ap.add_argument("--only", action="append", help="section(s): load, http, features")
    ap.add_argument("--output", type=Path, default=DOC, help="markdown file to write")
    ap.add_argument("--max-triples", type=int, default=1_000_000, help="largest load scale (full mode); 10000000 for the 10M point")
    ap.add_argument("--features-quick", action="store_true", help="run the feature sections (SHACL, structuring, ingest, labels, live) in their quick mode")
    a = ap.parse_args(argv)
    only = set(a.only or ["load", "http", "features"])
    work = Path(tempfile.mkdtemp(prefix="kgt-bench-"))
    parts = [
        "# Benchmarks",
        "",
        f"Generated by `python -m bench{' --quick' if a.quick else ''}` — {machine()}.",
        "",
        "Ratios compare against a baseline measured in the same run on the same data; absolute numbers drift on a shared machine.",
        "",
    ]
    try:
        if "load" in only:
            scales = [10_000, 50_000] if a.quick else [s for s in (10_000, 100_000, 1_000_000, 10_000_000) if s <= a.max_triples]
            md, curve = bench_load(scales, 1 if a.quick else 3, work)
            parts += ["## Load: kg-twin vs raw pyoxigraph", "", "Generated district data (N-Triples). `raw_bulk` = `pyoxigraph.Store.bulk_load`; "
                      "`kgtwin_bulk` = `GraphStore.load(bulk=True)` into a new project graph (what `kg-twin load` does); `kgtwin_replace` = "
                      "the same file replacing an existing one-triple graph (syntax check, redo journal, drop, bulk load under the writer lock); `*_transactional` = one "
                      "transaction. Each case runs in a fresh process (peak RSS of that process).", "", md, ""]
            if len(curve) > 1 and plot_curve(curve, a.output.parent / "scale-curve.png"):  # beside the report
                parts += ["![load time and memory against scale](scale-curve.png)", ""]
        if "http" in only:
            from bench import http as http_bench

            n = 20_000 if a.quick else 200_000
            md = http_bench.run(n, 1.0 if a.quick else 6.0, [1, 4] if a.quick else [1, 4, 16], work)
            parts += ["## HTTP query throughput: kg-twin vs `oxigraph serve`", "",
                      f"`python -m bench --only http` (or `python -m bench.http`): {n:,} generated triples in both servers, `wrk` as the client "
                      "(POST `application/sparql-query`; the named query as GET). kg-twin: `/projects/bench/sparql` (uvicorn + uvloop + httptools, "
                      "query worker processes, access control, dataset confinement, row cap, deadline); oxigraph: `oxigraph serve-read-only`. "
                      "CPU per request from /proc (API process; its query workers apart). See docs/architecture.md, \"Where the time goes\".", "", md, ""]
        if "features" in only:
            quick = a.quick or a.features_quick
            for title, module, qargs, fargs in FEATURE_BENCHES:
                args = qargs if quick else fargs
                parts += [f"## {title}", "", f"`python -m {module} {' '.join(args)}`".replace(" `", "`"), "", run_feature(module, args, 600 if quick else 3600), ""]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    a.output.write_text("\n".join(parts) + "\n")
    print("\n".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
