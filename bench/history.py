"""Cost of history (kg_twin.history): storage, writes, as-of queries, scenario queries.

    python -m bench.history                          # 1M triples, 100 versions of ~1 % change each
    python -m bench.history --triples 200000 --versions 30

Two on-disk twins get the same data and the same writes: one records history
(``KG_TWIN_HISTORY=true``, the default), the baseline does not. The district of ``bench.generate``
is spread over ``--graphs`` graphs of one project (``union`` mode), loaded with ``GraphStore.load``
(bulk, one version per graph). Then ``--versions`` SPARQL updates through the project endpoint's
path (:func:`kg_twin.sparql.update.run_project_update`), each ``DELETE DATA`` of ~0.5 % of the
triples and ``INSERT DATA`` of as many new ones (~1 % changed), in one graph (version ``i`` edits
graph ``i mod graphs``, as a re-ingest of one source would). Printed (same run, same machine):

* storage: the history store's directory over the baseline's (target <= 1.5);
* writes: the baseline's time for the updates over the history store's (target >= 0.8);
* as-of: a query on version head-1 / head-5 over the same query on the present (target <= 2), cold
  (the first query materialises the changed graphs) and warm (median of the next runs);
* scenario: a query on a scenario that edited one graph (~1 % of it) over the same query on the
  project (target <= 1.5), warm.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from bench.generate import BASE, triples
from kg_twin.service import Twin, create_twin
from kg_twin.settings import Settings
from kg_twin.sparql.update import run_project_update
from kg_twin.store import QueryRequest

P = "bench"
REV = "<http://example.org/bench#revision>"
QUERIES: list[tuple[str, str]] = [
    (
        "points by class (COUNT, GROUP BY)",
        "PREFIX brick: <https://brickschema.org/schema/Brick#> SELECT ?class (COUNT(?p) AS ?n) WHERE { ?p brick:isPointOf ?eq ; a ?class } GROUP BY ?class",
    ),
    (
        "mean value per building (AVG)",
        "PREFIX brick: <https://brickschema.org/schema/Brick#> PREFIX bot: <https://w3id.org/bot#> "
        "SELECT ?b (AVG(?v) AS ?avg) WHERE { ?b bot:hasStorey/bot:hasSpace ?sp . ?p brick:hasLocation ?sp ; brick:lastKnownValue ?v } GROUP BY ?b",
    ),
    (
        "one building's points (selective)",
        f"PREFIX brick: <https://brickschema.org/schema/Brick#> PREFIX bot: <https://w3id.org/bot#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        f"SELECT ?p ?l WHERE {{ <{BASE}building/B00001> bot:hasStorey ?st . ?st bot:hasSpace ?sp . ?p brick:hasLocation ?sp ; rdfs:label ?l }}",
    ),
]


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def median_time(fn: Callable[[], Any], runs: int) -> float:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def open_twin(d: Path, history: bool) -> Twin:
    return create_twin(Settings(data_dir=d, history=history, infer_on_change=False, query_workers=1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--triples", type=int, default=1_000_000)
    ap.add_argument("--versions", type=int, default=100)
    ap.add_argument("--graphs", type=int, default=10)
    ap.add_argument("--change", type=float, default=0.01, help="share of the triples one version changes (half removed, half added)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", type=Path, default=None, help="keep the data directories here")
    a = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="kgt-bench-history-")) if a.keep is None else a.keep
    rng = random.Random(a.seed)
    say = lambda *x: print(*x, file=sys.stderr, flush=True)  # noqa: E731

    # data: the district spread over the graphs, one N-Triples file each
    lines = list(triples(a.triples))
    files = [root / f"g{i}.nt" for i in range(a.graphs)]
    parts: list[list[str]] = [lines[i :: a.graphs] for i in range(a.graphs)]
    for f, part in zip(files, parts):
        f.write_text("\n".join(part) + "\n")
    say(f"{len(lines)} triples in {a.graphs} graphs")
    half = max(1, int(len(lines) * a.change / 2))
    edits: list[tuple[int, list[str], list[str]]] = []
    for i in range(a.versions):
        gi = i % a.graphs
        pool = parts[gi]
        idx = rng.sample(range(len(pool)), min(half, len(pool)))
        removed = [pool[k] for k in idx]
        added = [f"{r.split(' ', 1)[0]} {REV} \"{i}-{k}\" ." for k, r in enumerate(removed)]
        for k, new in zip(idx, added):
            pool[k] = new
        edits.append((gi, removed, added))

    results: dict[str, dict[str, Any]] = {}
    for label, history in (("baseline", False), ("history", True)):
        d = root / label
        shutil.rmtree(d, ignore_errors=True)
        twin = open_twin(d, history)
        twin.projects.create(P)
        graphs = [twin.naming.graph(P, f"source-{i}") for i in range(a.graphs)]
        t0 = time.perf_counter()
        for f, g in zip(files, graphs):
            twin.store.load(f, format="ntriples", graph=g)
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for gi, removed, added in edits:
            g = graphs[gi]
            run_project_update(twin, P, f"DELETE DATA {{ GRAPH <{g}> {{ {' '.join(removed)} }} }} ;\nINSERT DATA {{ GRAPH <{g}> {{ {' '.join(added)} }} }}")
        write_s = time.perf_counter() - t0
        say(f"{label}: load {load_s:.1f} s, {a.versions} updates {write_s:.1f} s")
        r: dict[str, Any] = {"load_s": load_s, "write_s": write_s}
        if history:
            ds = twin.dataset_of(P)
            present = twin.query_dataset(P)
            head = twin.history.head(P)
            r["queries"] = []
            # scenario: one graph edited (~1 % of it)
            twin.scenarios.create(P, "bench")
            g0 = graphs[0]
            some = rng.sample(parts[0], max(1, len(parts[0]) // 100))
            twin.scenarios.update(P, "bench", f"DELETE DATA {{ GRAPH <{g0}> {{ {' '.join(some)} }} }}")
            sview = twin.scenarios.view(P, "bench")
            for name, q in QUERIES:
                text = ds.rewrite_query(q, list(present.named_graphs or ()), merged=len(present.default_graphs or ()))
                base_t = median_time(lambda: twin.store.query(QueryRequest(text, dataset=present)), a.runs)
                row = {"query": name, "present_s": base_t}
                for back in (1, 5):
                    seq = max(0, head - back)
                    t0 = time.perf_counter()
                    view = twin.as_of.view(P, str(seq))
                    twin.store.query(QueryRequest(view.rewrite(q), dataset=view.dataset))
                    row[f"asof{back}_cold_s"] = time.perf_counter() - t0
                    vt = view.rewrite(q)
                    row[f"asof{back}_s"] = median_time(lambda: twin.store.query(QueryRequest(vt, dataset=view.dataset)), a.runs)
                st = sview.rewrite(q)
                row["scenario_s"] = median_time(lambda: twin.store.query(QueryRequest(st, dataset=sview.dataset)), a.runs)
                r["queries"].append(row)
            twin.scenarios.delete(P, "bench")
            # views are a cache: drop them so the storage compared is data + history only
            twin.history.recorder.inner.drop_graphs([g for g in twin.store.graphs() if "/_asof/" in g])
        twin.close()
        r["bytes"] = du(d / "store")
        results[label] = r

    b, h = results["baseline"], results["history"]
    print(f"\n## History ({len(lines):,} triples, {a.graphs} graphs, {a.versions} versions of ~{a.change:.0%} change each)\n")
    print("| measure | baseline (no history) | history | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| store on disk | {b['bytes'] / 1e6:.0f} MB | {h['bytes'] / 1e6:.0f} MB | {h['bytes'] / b['bytes']:.2f}× | ≤ 1.5× |")
    print(f"| {a.versions} updates (write speed) | {b['write_s']:.1f} s | {h['write_s']:.1f} s | {b['write_s'] / h['write_s']:.2f}× | ≥ 0.8× |")
    print(f"| initial bulk load ({a.graphs} graphs) | {b['load_s']:.1f} s | {h['load_s']:.1f} s | {b['load_s'] / h['load_s']:.2f}× | — |")
    print("\n| query | present | as-of head-1 (cold / warm) | ratio warm | as-of head-5 (cold / warm) | ratio warm | scenario | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for q in h["queries"]:
        p = q["present_s"]
        print(
            f"| {q['query']} | {p * 1000:.0f} ms | {q['asof1_cold_s'] * 1000:.0f} / {q['asof1_s'] * 1000:.0f} ms | {q['asof1_s'] / p:.2f}× "
            f"| {q['asof5_cold_s'] * 1000:.0f} / {q['asof5_s'] * 1000:.0f} ms | {q['asof5_s'] / p:.2f}× | {q['scenario_s'] * 1000:.0f} ms | {q['scenario_s'] / p:.2f}× |"
        )
    if a.keep is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
