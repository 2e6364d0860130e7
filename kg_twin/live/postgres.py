"""History of readings in PostgreSQL: the :class:`~kg_twin.live.timeseries.TimeSeriesStore` of a
city-scale deployment (many writers' worth of readings, a database server that is backed up,
replicated and queried by other tools), selected by ``KG_TWIN_TIMESERIES=postgresql://...``.

Same tables as the embedded SQLite store (``series``, ``obs``), same answers: buckets are aligned to
the Unix epoch (``ts - ts % every``, as TimescaleDB's ``time_bucket``), a reading for an existing
``(series, ts)`` replaces it. Connections are per thread (psycopg 3, autocommit; writes in explicit
transactions).
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

import psycopg

from kg_twin.errors import InputError, UpstreamError
from kg_twin.live.sqlseries import AGGREGATES, Obs, SqlSeriesStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
  id BIGSERIAL PRIMARY KEY,
  scope TEXT NOT NULL,
  point TEXT NOT NULL,
  ts_id TEXT NOT NULL,
  project TEXT NOT NULL,
  unit TEXT,
  UNIQUE (scope, point)
);
CREATE INDEX IF NOT EXISTS series_ts_id ON series (project, ts_id);
CREATE TABLE IF NOT EXISTS obs (
  series BIGINT NOT NULL REFERENCES series (id) ON DELETE CASCADE,
  ts BIGINT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  quality TEXT,
  PRIMARY KEY (series, ts)
);
"""
_PG_AGG = {"avg": "AVG(value)", "min": "MIN(value)", "max": "MAX(value)", "count": "COUNT(value)", "sum": "SUM(value)",
           "first": "(ARRAY_AGG(value ORDER BY ts ASC))[1]", "last": "(ARRAY_AGG(value ORDER BY ts DESC))[1]"}
assert set(_PG_AGG) == set(AGGREGATES)


def is_postgres_url(url: str) -> bool:
    """
    >>> is_postgres_url("postgresql://kg@127.0.0.1:5432/twin"), is_postgres_url("sqlite")
    (True, False)
    """
    return url.startswith(("postgresql://", "postgres://"))


class PostgresTimeSeriesStore(SqlSeriesStore):
    """:class:`TimeSeriesStore` in a PostgreSQL database (``url``: a libpq connection URL).

    ``read_only=True`` opens read-only sessions (query workers, the CLI next to a running server).
    """

    PARAM = "%s"
    NOT_SAME = "IS DISTINCT FROM"

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        super().__init__()
        self.url = url
        self.read_only = read_only
        self._local = threading.local()
        self._conns: list[psycopg.Connection[Any]] = []
        self._conns_lock = threading.Lock()
        if not read_only:
            with self._conn().transaction():
                self._conn().execute("SELECT pg_advisory_xact_lock(7404657)")  # one schema creator at a time
                self._conn().execute(SCHEMA)

    def _conn(self) -> psycopg.Connection[Any]:
        c = getattr(self._local, "conn", None)
        if c is None or c.closed:
            try:
                c = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
            except psycopg.OperationalError as e:
                raise UpstreamError("TIMESERIES_UNREACHABLE", f"the time-series database does not answer: {e}".strip(), hint="check KG_TWIN_TIMESERIES and that PostgreSQL runs") from None
            if self.read_only:
                c.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            self._local.conn = c
            with self._conns_lock:
                self._conns.append(c)
        return c

    # series -----------------------------------------------------------------
    def ensure_many(self, scope: str, project: str, points: Sequence[tuple[str, str, "str | None"]]) -> dict[str, int]:
        """Create the series of many ``(point, ts_id, unit)`` at once (one transaction); point -> series id."""
        c = self._conn()
        insert, inserts, update, updates = self.series_rows(scope, project, points)
        with self._write_lock, c.transaction(), c.cursor() as cur:
            cur.executemany(insert, inserts)
            cur.executemany(update, updates)
        return self.cache_scope(scope)

    def latest_times(self, series: Sequence[int]) -> dict[int, int]:
        ids = list(series)
        if not ids:
            return {}
        rows = self._conn().execute("SELECT series, MAX(ts) FROM obs WHERE series = ANY(%s) GROUP BY series", (ids,))
        return {int(a): int(b) for a, b in rows}

    def scope_filter(self, scopes: Sequence[str]) -> tuple[str, list]:
        return "scope = ANY(?)", [list(scopes)]

    # data -------------------------------------------------------------------
    def append(self, batch: Sequence[Obs]) -> int:
        if not batch:
            return 0
        c = self._conn()
        # one row per (series, ts): the last reading of a batch wins, as with SQLite's INSERT OR REPLACE
        rows = list({(s, t): (s, t, v, q) for s, t, v, q in batch}.values())
        with self._write_lock, c.transaction(), c.cursor() as cur:
            cur.executemany(
                "INSERT INTO obs (series, ts, value, quality) VALUES (%s,%s,%s,%s) ON CONFLICT (series, ts) DO UPDATE SET value=EXCLUDED.value, quality=EXCLUDED.quality",
                rows,
            )
        return len(batch)

    def aggregate(self, series: int, start_ms: int, end_ms: int, every_ms: int | None, agg: str) -> list[tuple[int, float | None, int]]:
        if agg not in _PG_AGG:
            raise InputError("BAD_AGGREGATE", f"unknown aggregate {agg!r}", hint="use one of " + ", ".join(AGGREGATES))
        bucket = "%s::bigint" if every_ms is None else "(ts - (ts %% %s::bigint))"
        barg = start_ms if every_ms is None else every_ms
        sql = f"SELECT {bucket} AS b, {_PG_AGG[agg]}, COUNT(*) FROM obs WHERE series=%s AND ts>=%s AND ts<%s GROUP BY b ORDER BY b"
        return [(int(b), None if v is None else float(v), int(n)) for b, v, n in self._conn().execute(sql, (barg, series, start_ms, end_ms))]

    def delete_project(self, project: str) -> None:
        c = self._conn()
        with self._write_lock, c.transaction():
            c.execute("DELETE FROM obs WHERE series IN (SELECT id FROM series WHERE project=%s)", (project,))
            c.execute("DELETE FROM series WHERE project=%s", (project,))
        self._series_cache.clear()

    def close(self) -> None:
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for c in conns:
            c.close()
        self._local = threading.local()
