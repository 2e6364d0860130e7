"""Semantic core timings: the OWL consistency check and per-project inference.

    python -m bench.semantic            # prints a markdown table (numbers go into docs/semantics.md)
    python -m bench.semantic --runs 5

Measured: ``check_consistency`` cold (reasoner runs) and cached; ``infer_project`` on an
in-memory store for the G36 AHU/VAV example (93 triples) and the DOE small office
(``smallOffice_brick.ttl``, 692 triples): first run in the process (includes parsing the
ontology bundle) and warm runs (median). Wall time and process CPU time are both shown: on a
shared 2-core machine wall time varies with the load, CPU time much less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "brick"
MODELS = [("G36 AHU + VAV", DATA / "g36-combined-ahu-vav.ttl"), ("DOE small office", DATA / "smallOffice_brick.ttl")]


def _timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def _copies(path: Path, n: int) -> bytes:
    """N copies of a model with renamed instance IRIs (vocabulary IRIs kept), as N-Triples."""
    import rdflib

    src = rdflib.Graph().parse(path, format="turtle")
    vocab = ("https://brickschema.org/", "http://www.w3.org/", "http://qudt.org/")
    out = rdflib.Graph()
    for i in range(n):
        def ren(t):
            if isinstance(t, rdflib.URIRef) and not str(t).startswith(vocab):
                return rdflib.URIRef(f"{t}-copy{i}")
            return t
        for s_, p, o in src:
            out.add((ren(s_), p, ren(o)))
    return out.serialize(format="nt", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3, help="warm inference runs per model")
    ap.add_argument("--scale", type=int, default=10, help="also infer N renamed copies of the small office in one project (0: skip)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from kg_twin.reasoning.infer import infer_project
    from kg_twin.reasoning.owl import check_consistency
    from kg_twin.settings import Settings
    from kg_twin.store import open_store
    from kg_twin.terms import Naming

    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as cache:
        rep, w, c = _timed(lambda: check_consistency(cache_dir=cache, use_cache=False))
        rows.append(("ontologies check (HermiT, whole bundle, cold)", f"{w:.2f}", f"{c:.2f}", f"consistent={rep.consistent}, unsatisfiable={len(rep.unsatisfiable)}; Java time not in CPU column"))
        rep, w, c = _timed(lambda: check_consistency(cache_dir=cache))
        rows.append(("ontologies check (cached)", f"{w:.3f}", f"{c:.3f}", f"cached={rep.cached}"))

    settings = Settings(store="memory")
    naming = Naming(settings.base_iri)
    first = True
    for name, path in MODELS:
        store = open_store(settings)
        try:
            store.load(path, format="turtle", graph=naming.graph("bench", "model"))
            st, w, c = _timed(lambda: infer_project(store, naming, "bench"))
            label = "first run in process (parses the bundle)" if first else "first run"
            first = False
            rows.append((f"infer {name} ({st.asserted_triples} triples): {label}", f"{w:.2f}", f"{c:.2f}", f"{st.inferred_triples} inferred; steps {st.seconds}"))
            walls, cpus = [], []
            for _ in range(args.runs):
                st, w, c = _timed(lambda: infer_project(store, naming, "bench"))
                walls.append(w)
                cpus.append(c)
            rows.append((f"infer {name}: warm (median of {args.runs})", f"{statistics.median(walls):.2f}", f"{statistics.median(cpus):.2f}", f"{st.inferred_triples} inferred"))
        finally:
            store.close()

    if args.scale:
        store = open_store(settings)
        try:
            store.load(_copies(DATA / "smallOffice_brick.ttl", args.scale), format="ntriples", graph=naming.graph("bench", "model"))
            st, w, c = _timed(lambda: infer_project(store, naming, "bench"))
            rows.append((f"infer {args.scale} copies of the small office ({st.asserted_triples} triples)", f"{w:.2f}", f"{c:.2f}", f"{st.inferred_triples} inferred; steps {st.seconds}"))
        finally:
            store.close()

    load = os.getloadavg()
    print(f"semantic core timings ({os.cpu_count()} cores, load average {load[0]:.1f} at the end)\n")
    print("| what | wall s | CPU s | result |")
    print("|---|---:|---:|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
