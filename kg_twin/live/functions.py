"""SPARQL functions over the history of points (in the store's extension table: :data:`FUNCTIONS`).

Namespace ``kgt:`` = ``https://w3id.org/kg-twin/ontology#``.

=================================================  ============================================
``kgt:avg(?point, "P1D"^^xsd:duration)``           average over the last day (window ends now)
``kgt:avg(?point, ?start, ?end)``                  average over ``[start, end)`` (xsd:dateTime)
``kgt:min`` / ``kgt:max`` / ``kgt:sum`` / ``kgt:count``  same arguments
``kgt:agg(?point, "max", ?start, ?end)``           aggregate by name (avg, min, max, sum, count, first, last)
``kgt:agg(?point, "max", "PT6H")``                 same over the last 6 hours
``kgt:latest(?point)`` / ``kgt:latestTime(?point)``  newest stored value / its time
=================================================  ============================================

Results are ``xsd:double`` (``xsd:integer`` for count); no data in the window gives
an unbound value (count gives 0). A point's history is only reachable when a graph of
its project is part of the query's dataset, so a query of project A
cannot read the history of project B even for the same point IRI.

The functions run wherever the query runs: in the query worker processes (which
open the SQLite history read-only; WAL lets them read while the server writes) or
in-process.
"""

from __future__ import annotations

import threading
import time
from functools import partial
from typing import Any

from kg_twin.live.readings import parse_duration, parse_time
from kg_twin.live.timeseries import SQLiteTimeSeriesStore, history_path
from kg_twin.rdf import IRI, Literal
from kg_twin.store.functions import current_query_context
from kg_twin.terms import KGT

_stores: dict[str, SQLiteTimeSeriesStore] = {}
_lock = threading.Lock()


def _history(data_dir: str) -> SQLiteTimeSeriesStore | None:
    st = _stores.get(data_dir)
    if st is None:
        path = history_path(data_dir)
        if not path.exists():
            return None
        with _lock:
            st = _stores.setdefault(data_dir, SQLiteTimeSeriesStore(path, read_only=True))
    return st


def _series(point: Any) -> tuple[SQLiteTimeSeriesStore, int] | None:
    if not isinstance(point, IRI):
        raise TypeError("the first argument must be a point IRI")
    ctx = current_query_context() or {}
    data_dir = ctx.get("data_dir")
    if data_dir is None:
        from kg_twin.live.service import active_services

        act = active_services()
        if len(act) != 1:
            raise ValueError("no time-series store known for this query")
        data_dir = str(act[0].data_dir)
    st = _history(data_dir)
    if st is None:
        return None
    graphs = ctx.get("graphs")
    found = st.find_series(point=str(point))
    if graphs is not None:
        # a series belongs to the project whose graphs share its state graph's prefix
        # ({base}graph/{project}/); the state graph itself may not exist yet
        found = [s for s in found if any(g.startswith(s.scope.rsplit("/", 1)[0] + "/") for g in graphs)]
    if len(found) != 1:  # none, or several projects' series visible to an internal query
        return None
    return st, found[0].id


def _window(args: tuple[Any, ...]) -> tuple[int, int]:
    if len(args) == 1:
        end = int(time.time() * 1000)
        return end - parse_duration(str(args[0].value)), end
    if len(args) == 2:
        return parse_time(str(args[0].value)), parse_time(str(args[1].value))
    raise TypeError("expected a duration, or a start and an end")


def _agg(point: Any, agg: str, *window: Any) -> Any:
    s = _series(point)
    start, end = _window(window)
    if s is None:
        return 0 if agg == "count" else None
    st, sid = s
    rows = st.aggregate(sid, start, end, None, agg)
    if not rows:
        return 0 if agg == "count" else None
    v = rows[0][1]
    if agg == "count":
        return int(v)
    return None if v is None else float(v)


def _aggregate(agg: str, point: Any, *window: Any) -> Any:
    return _agg(point, agg, *window)


def kgt_agg(point: Any, agg: Any, *window: Any) -> Any:
    name = str(agg.value if isinstance(agg, Literal) else agg).lower()
    if name not in ("avg", "min", "max", "sum", "count", "first", "last"):
        raise ValueError(f"unknown aggregate {name!r}")
    return _agg(point, name, *window)


def kgt_latest(point: Any) -> Any:
    s = _series(point)
    if s is None:
        return None
    row = s[0].latest(s[1])
    return None if row is None else float(row[1])


def kgt_latest_time(point: Any) -> Any:
    from kg_twin.live.readings import format_time
    from kg_twin.rdf import XSD_DATETIME

    s = _series(point)
    if s is None:
        return None
    row = s[0].latest(s[1])
    return None if row is None else Literal(format_time(row[0]), XSD_DATETIME)


# The store's extension table entries of the live twin (see kg_twin.service.sparql_functions);
# partials of module-level functions, so the query worker processes receive them pickled.
FUNCTIONS: dict[str, Any] = {
    **{KGT + a: partial(_aggregate, a) for a in ("avg", "min", "max", "sum", "count")},
    KGT + "agg": kgt_agg,
    KGT + "latest": kgt_latest,
    KGT + "latestTime": kgt_latest_time,
}
