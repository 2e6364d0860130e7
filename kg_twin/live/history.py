"""History queries shared by REST (``GET .../observations``) and the CLI (``kg-twin observations``).

>>> import tempfile, os
>>> from kg_twin.live.timeseries import SQLiteTimeSeriesStore
>>> ts = SQLiteTimeSeriesStore(os.path.join(tempfile.mkdtemp(), "h.sqlite"))
>>> sid = ts.ensure_series("urn:g", "http://ex/b#t1", ts_id="t1", project="p")
>>> _ = ts.append([(sid, 1714557600000, 20.0, None), (sid, 1714558500000, 22.0, None)])
>>> out = query_history(ts, ts.find_series(point="http://ex/b#t1")[0], start="2024-05-01T10:00:00Z", end="2024-05-01T11:00:00Z", every="30min", agg="avg")
>>> [(r["time"], r["value"], r["count"]) for r in out["rows"]]
[('2024-05-01T10:00:00.000Z', 21.0, 2)]
>>> print(to_csv(out), end="")
time,value,count
2024-05-01T10:00:00.000Z,21.0,2
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from kg_twin.errors import InputError, NotFound
from kg_twin.live.readings import BadTime, format_time, parse_duration, parse_time
from kg_twin.live.timeseries import AGGREGATES, Series, TimeSeriesStore

DEFAULT_SPAN_MS = 24 * 3600 * 1000
MAX_RAW = 100_000
MAX_BUCKETS = 100_000


def _t(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return parse_time(value)
    except BadTime as e:
        raise InputError("BAD_TIME", f"{name}: {e}", hint="use ISO 8601 with a timezone, e.g. 2024-05-01T00:00:00Z") from None


def query_history(
    ts: TimeSeriesStore, series: Series, *, start: str | None = None, end: str | None = None, every: str | None = None, agg: str | None = None, limit: int = MAX_RAW
) -> dict[str, Any]:
    """Raw readings (no ``every``/``agg``) or aggregates per ``every`` bucket (aligned to the epoch, like time_bucket)."""
    end_ms = _t(end, "end")
    start_ms = _t(start, "start")
    if end_ms is None:
        end_ms = int(time.time() * 1000) + 1
    if start_ms is None:
        start_ms = end_ms - DEFAULT_SPAN_MS
    if start_ms >= end_ms:
        raise InputError("BAD_RANGE", "start must be before end")
    out: dict[str, Any] = {"point": series.point, "id": series.ts_id, "project": series.project, "unit": series.unit, "start": format_time(start_ms), "end": format_time(end_ms)}
    if every is None and agg is None:
        rows = ts.raw(series.id, start_ms, end_ms, min(limit, MAX_RAW) + 1)
        out["truncated"] = len(rows) > min(limit, MAX_RAW)
        out["rows"] = [{"time": format_time(t), "value": v, "quality": q} for t, v, q in rows[: min(limit, MAX_RAW)]]
        return out
    agg = (agg or "avg").lower()
    if agg not in AGGREGATES:
        raise InputError("BAD_AGGREGATE", f"unknown aggregate {agg!r}", hint="use one of " + ", ".join(AGGREGATES))
    every_ms = None
    if every:
        try:
            every_ms = parse_duration(every)
        except ValueError as e:
            raise InputError("BAD_EVERY", str(e)) from None
        if (end_ms - start_ms) // every_ms > MAX_BUCKETS:
            raise InputError("TOO_MANY_BUCKETS", f"more than {MAX_BUCKETS} buckets of {every}", hint="use a larger 'every' or a shorter range")
    rows = ts.aggregate(series.id, start_ms, end_ms, every_ms, agg)
    out.update({"every": every, "agg": agg, "rows": [{"time": format_time(b), "value": v, "count": n} for b, v, n in rows]})
    return out


def to_csv(result: dict[str, Any]) -> str:
    buf = io.StringIO()
    rows = result["rows"]
    cols = ["time", "value", "count"] if "agg" in result else ["time", "value", "quality"]
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r[c] for c in cols])
    return buf.getvalue()


def find_series(ts: TimeSeriesStore, project: str, point: str, scope: str | None = None) -> Series:
    """A project's series by point IRI, time-series id or IRI local name."""
    from kg_twin.live.points import local_name

    scopes = [scope] if scope else None
    found = ts.find_series(project=project, scopes=scopes, point=point) or ts.find_series(project=project, scopes=scopes, ts_id=point)
    if not found:
        found = [s for s in ts.find_series(project=project, scopes=scopes) if local_name(s.point) == point]
    if len(found) > 1:
        raise InputError("AMBIGUOUS_POINT", f"{point!r} names several series of project {project!r}", hint="use the point IRI")
    if not found:
        raise NotFound("NO_HISTORY", f"no stored readings for point {point!r} in project {project!r}", hint="check the point id (GET /projects/{p}/points) or send readings first")
    return found[0]
