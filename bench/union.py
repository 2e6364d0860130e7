"""Cost of the set-semantics rewrite of the union default graph (kg_twin.sparql.union).

    python -m bench.union                  # ~200k triples, 5 runs per query, prints a markdown table
    python -m bench.union --triples 20000 --runs 3

The district from ``bench.generate`` is spread over three graphs like a project in ``union`` mode:
two source graphs (buildings alternate between them) and an "inferred" graph repeating every
``rdf:type`` and ``rdfs:label`` triple (the duplicates of issue 12). Each query runs

* ``set``: the original query on a store whose default graph holds the set union (the baseline:
  what a materialised set union would cost);
* ``bag``: the original query with ``default_graph=[the three graphs]`` (today's path: fast, but
  duplicates are counted);
* ``rewritten``: ``set_default_graph(query)`` with ``default_graph=[the three graphs]``.

Printed: median wall times, the ratios rewritten/bag and rewritten/set (same run, same data), whether
the rewritten answers equal the set answers, and the rewrite's own time (uncached, best of 10).
"""

from __future__ import annotations

import argparse
import statistics
import time
import timeit
from collections import Counter
from typing import Any

import pyoxigraph as ox

from bench.generate import BASE, triples
from kg_twin.sparql.union import set_default_graph

PREFIXES = """PREFIX brick: <https://brickschema.org/schema/Brick#>
PREFIX bot: <https://w3id.org/bot#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
B1 = f"<{BASE}building/B00001>"
QUERIES: list[tuple[str, str]] = [
    ("points by class (COUNT, GROUP BY)", "SELECT ?class (COUNT(?p) AS ?n) WHERE { ?p brick:isPointOf ?eq ; a ?class } GROUP BY ?class"),
    (
        "mean value per building (sequence path, AVG)",
        "SELECT ?b (AVG(?v) AS ?avg) (COUNT(*) AS ?n) WHERE { ?b bot:hasStorey/bot:hasSpace ?sp . "
        "?p brick:hasLocation ?sp ; brick:lastKnownValue ?v } GROUP BY ?b",
    ),
    ("spaces with labels (OPTIONAL, all rows)", "SELECT ?sp ?l WHERE { ?sp a bot:Space OPTIONAL { ?sp rdfs:label ?l } }"),
    ("count every triple", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"),
    ("one building's storeys (selective, OPTIONAL)", f"SELECT ?st ?l WHERE {{ {B1} bot:hasStorey ?st OPTIONAL {{ ?st rdfs:label ?l }} }}"),
    (
        "one building's points (selective, 3 hops)",
        f"SELECT ?p ?l WHERE {{ {B1} bot:hasStorey ?st . ?st bot:hasSpace ?sp . ?p brick:hasLocation ?sp ; rdfs:label ?l }}",
    ),
    ("points of equipment (catalog, DISTINCT: unchanged)", "SELECT DISTINCT ?p ?l WHERE { ?p brick:isPointOf ?eq . OPTIONAL { ?p rdfs:label ?l } }"),
    ("ASK (unchanged)", "ASK { ?p a brick:Zone_Air_Temperature_Sensor ; brick:hasUnit ?u }"),
]
SPLIT_TYPES = ("<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>", "<http://www.w3.org/2000/01/rdf-schema#label>")


def build(target: int) -> tuple[ox.Store, ox.Store, list[ox.NamedNode], int]:
    graphs = [ox.NamedNode(f"{BASE}graph/bench/{name}") for name in ("source-a", "source-b", "inferred")]
    lines = list(triples(target))
    bag, ref = ox.Store(), ox.Store()
    ref.bulk_load("".join(lines).encode(), ox.RdfFormat.N_TRIPLES)
    halves: list[list[str]] = [[], [], []]
    building = 0
    for line in lines:
        if line.startswith(f"<{BASE}building/B") and "/" not in line[len(f"<{BASE}building/B") : line.index(">")]:
            building = int(line[len(f"<{BASE}building/B") : line.index(">")])
        halves[building % 2].append(line)
        if line.split(" ", 2)[1] in SPLIT_TYPES:
            halves[2].append(line)
    for g, part in zip(graphs, halves):
        bag.bulk_load("".join(part).encode(), ox.RdfFormat.N_TRIPLES, to_graph=g)
    return bag, ref, graphs, len(lines)


def answer(result: Any) -> Any:
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    names = [v.value for v in result.variables if not v.value.startswith("__kgt")]
    return Counter(tuple(str(s[n]) for n in names) for s in result)


def timed(fn: Any, runs: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = answer(fn())
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--triples", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    bag, ref, graphs, n = build(a.triples)
    stored = sum(1 for _ in bag.quads_for_pattern(None, None, None, None))
    print(f"{n:,} triples, {stored:,} quads over {len(graphs)} graphs (built in {time.perf_counter() - t0:.1f}s), median of {a.runs} runs\n")
    print("| query | set ms | bag ms | rewritten ms | rewritten / bag | rewritten / set | rewrite µs | answers = set |")
    print("|---|---|---|---|---|---|---|---|")
    for name, body in QUERIES:
        q = PREFIXES + body
        rq = set_default_graph(q)
        rewrite_us = min(timeit.repeat(lambda: set_default_graph.__wrapped__(q), number=20, repeat=10)) / 20 * 1e6  # uncached
        t_set, want = timed(lambda: ref.query(q), a.runs)
        t_bag, _ = timed(lambda: bag.query(q, default_graph=graphs), a.runs)
        t_rw, got = timed(lambda: bag.query(rq, default_graph=graphs), a.runs)
        label = name if rq != q else name + " ¹"
        print(
            f"| {label} | {t_set:.1f} | {t_bag:.1f} | {t_rw:.1f} | {t_rw / t_bag:.2f}× | {t_rw / t_set:.2f}× "
            f"| {rewrite_us:.0f} | {'yes' if got == want else 'NO'} |"
        )
    print("\n¹ nothing to rewrite: the query text is unchanged.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
