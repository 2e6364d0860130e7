"""Single benchmark cases run in a fresh process (clean timing and peak RSS).

    python -m bench.cases CASE FILE WORKDIR  ->  prints {"seconds": .., "rss_mb": .., "triples": ..}
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def raw_bulk(file: str, work: str) -> int:
    import pyoxigraph as ox

    st = ox.Store(str(Path(work) / "raw"))
    st.bulk_load(path=file, format=ox.RdfFormat.N_TRIPLES)
    st.flush()
    return len(st)


def raw_transactional(file: str, work: str) -> int:
    import pyoxigraph as ox

    st = ox.Store(str(Path(work) / "rawtx"))
    st.load(path=file, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("http://g"))
    return len(st)


def _bench_twin(work: str) -> tuple[object, str]:
    """A fresh twin with project 'bench'; returns it and the target graph IRI."""
    from kg_twin.service import create_twin
    from kg_twin.settings import Settings

    t = create_twin(Settings(data_dir=Path(work) / "kgt", infer_on_change=False))
    t.projects.create("bench")
    return t, t.naming.graph("bench", "district")


def kgtwin_bulk(file: str, work: str) -> int:
    t, g = _bench_twin(work)
    n = t.store.load(file, format="ntriples", graph=g, bulk=True)
    t.close()
    return n


def kgtwin_replace(file: str, work: str) -> int:
    """Replace an existing graph (syntax check, redo journal, drop, bulk load under the writer lock)."""
    t, g = _bench_twin(work)
    t.store.load(b"<http://a> <http://b> <http://c> .", format="ntriples", graph=g)
    n = t.store.load(file, format="ntriples", graph=g, bulk=True, replace=True)
    t.close()
    return n


def kgtwin_transactional(file: str, work: str) -> int:
    t, g = _bench_twin(work)
    n = t.store.load(file, format="ntriples", graph=g, bulk=False)
    t.close()
    return n


def query_mix(file: str, work: str) -> dict:
    """Load with kg-twin, then time each query of the HTTP mix in-process (engine + serialization)."""
    import statistics

    from bench.__main__ import QUERIES
    from kg_twin.store import QueryRequest

    t, g = _bench_twin(work)
    t.store.load(file, format="ntriples", graph=g, bulk=True)
    ds = t.dataset_for(["bench"])
    out = {}
    for name, q in QUERIES.items():
        fmt = {"graph_format": "ntriples"} if q.startswith("CONSTRUCT") else {"result_format": "json"}
        t.store.query(QueryRequest(q, dataset=ds, max_rows=100_000, **fmt))  # warm-up
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            t.store.query(QueryRequest(q, dataset=ds, max_rows=100_000, **fmt))
            times.append(time.perf_counter() - t0)
        out[name] = statistics.median(times) * 1000
    t.close()
    return {"query_ms": out}


CASES = {f.__name__: f for f in (raw_bulk, raw_transactional, kgtwin_bulk, kgtwin_replace, kgtwin_transactional, query_mix)}

if __name__ == "__main__":
    case, file, work = sys.argv[1:4]
    t0 = time.perf_counter()
    n = CASES[case](file, work)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    extra = n if isinstance(n, dict) else {"triples": n}
    print(json.dumps({"seconds": dt, "rss_mb": rss, **extra}))
