"""History of readings: the :class:`TimeSeriesStore` protocol, its embedded SQLite backend, and
:func:`open_history`, which picks the backend ``KG_TWIN_TIMESERIES`` names (PostgreSQL:
:mod:`kg_twin.live.postgres`).

Time series live beside the graph, not in it (as in Brick's ``ref:TimeseriesReference``,
FROST, Orion-LD, Azure Digital Twins). The graph only holds the last known value
and a reference (``ref:hasTimeseriesId``, ``ref:storedAt``) to the series here.

A series is identified by ``(scope, point)``: ``scope`` is the IRI of the project's
state graph, so the same point IRI in two projects gives two separate series and a
SPARQL function can only reach series whose state graph is in the query's dataset.

Timestamps are integer milliseconds since the Unix epoch (UTC).

>>> import tempfile, os
>>> ts = SQLiteTimeSeriesStore(os.path.join(tempfile.mkdtemp(), "ts.sqlite"))
>>> sid = ts.ensure_series("urn:g", "urn:p1", ts_id="p1", project="demo")
>>> ts.append([(sid, 0, 1.0, None), (sid, 60_000, 3.0, None)])
2
>>> ts.aggregate(sid, 0, 120_000, 3_600_000, "avg")
[(0, 2.0, 2)]
>>> ts.latest(sid)
(60000, 3.0, None)
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

from kg_twin.errors import InputError
from kg_twin.live.sqlseries import AGGREGATES, Obs, Row, Series, SqlSeriesStore

__all__ = ["AGGREGATES", "Obs", "Row", "Series", "SQLiteTimeSeriesStore", "TimeSeriesStore", "open_history"]

WAL_CHECKPOINT_PAGES = 10_000


@runtime_checkable
class TimeSeriesStore(Protocol):
    """What the live layer needs from a history backend.

    A server database (PostgreSQL/TimescaleDB: ``time_bucket`` + ``GROUP BY``) can implement
    this the same way; bucket starts are aligned to the Unix epoch like ``time_bucket``.
    """

    def ensure_series(self, scope: str, point: str, *, ts_id: str, project: str, unit: str | None = None) -> int: ...

    def ensure_many(self, scope: str, project: str, points: Sequence[tuple[str, str, "str | None"]]) -> dict[str, int]: ...

    def latest_times(self, series: Sequence[int]) -> dict[int, int]: ...

    def find_series(self, *, project: str | None = None, scopes: Sequence[str] | None = None, point: str | None = None, ts_id: str | None = None) -> list[Series]: ...

    def append(self, batch: Sequence[Obs]) -> int:
        """Store readings (one transaction); a reading for an existing (series, ts) replaces it."""
        ...

    def aggregate(self, series: int, start_ms: int, end_ms: int, every_ms: int | None, agg: str) -> list[tuple[int, float | None, int]]:
        """``[(bucket_start_ms, value, n)]`` for ``start <= ts < end``; ``every_ms=None``: one bucket from ``start``."""
        ...

    def raw(self, series: int, start_ms: int, end_ms: int, limit: int) -> list[Row]: ...

    def latest(self, series: int) -> Row | None: ...

    def count(self) -> int: ...

    def delete_project(self, project: str) -> None: ...

    def close(self) -> None: ...


SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY,
  scope TEXT NOT NULL,
  point TEXT NOT NULL,
  ts_id TEXT NOT NULL,
  project TEXT NOT NULL,
  unit TEXT,
  UNIQUE (scope, point)
);
CREATE INDEX IF NOT EXISTS series_ts_id ON series (project, ts_id);
CREATE TABLE IF NOT EXISTS obs (
  series INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  value REAL NOT NULL,
  quality TEXT,
  PRIMARY KEY (series, ts)
) WITHOUT ROWID;
"""


class SQLiteTimeSeriesStore(SqlSeriesStore):
    """:class:`TimeSeriesStore` in one SQLite file (WAL): one writer process, any number of readers.

    ``read_only=True`` opens the file with ``mode=ro`` (query workers, CLI while the server runs).
    Connections are per thread.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        super().__init__()
        self.path = Path(path)
        self.read_only = read_only
        self._local = threading.local()
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            c = self._conn()
            c.executescript(SCHEMA)
        elif not self.path.exists():
            raise InputError("NO_HISTORY", f"no time-series database at {self.path}", hint="send readings first (POST /projects/{p}/observations or MQTT)", status=404)

    def _conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            if self.read_only:
                c = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, timeout=30)
            else:
                c = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30, isolation_level=None)
                c.execute("PRAGMA journal_mode=WAL")
                c.execute("PRAGMA synchronous=NORMAL")
                # a batch spread over many series dirties about one page per series; checkpoint every
                # ~40 MiB of WAL instead of 4 MiB, so a page rewritten by many commits is copied back once
                c.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            c.execute("PRAGMA cache_size=-131072")  # 128 MiB of page cache per connection
            self._local.conn = c
        return c

    # series -----------------------------------------------------------------
    def ensure_many(self, scope: str, project: str, points: Sequence[tuple[str, str, "str | None"]]) -> dict[str, int]:
        """Create the series of many ``(point, ts_id, unit)`` at once (one transaction); point -> series id."""
        c = self._conn()
        insert, inserts, update, updates = self.series_rows(scope, project, points)
        with self._write_lock:
            c.execute("BEGIN")
            try:
                c.executemany(insert, inserts)
                c.executemany(update, updates)
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        return self.cache_scope(scope)

    def latest_times(self, series: Sequence[int]) -> dict[int, int]:
        """Newest timestamp of each series that has readings."""
        out: dict[int, int] = {}
        c = self._conn()
        ids = list(series)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            q = f"SELECT series, MAX(ts) FROM obs WHERE series IN ({','.join('?' * len(chunk))}) GROUP BY series"
            out.update({int(a): int(b) for a, b in c.execute(q, chunk)})
        return out

    # data -------------------------------------------------------------------
    def append(self, batch: Sequence[Obs]) -> int:
        if not batch:
            return 0
        c = self._conn()
        with self._write_lock:
            c.execute("BEGIN")
            try:
                c.executemany("INSERT OR REPLACE INTO obs (series, ts, value, quality) VALUES (?,?,?,?)", batch)
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        return len(batch)

    def aggregate(self, series: int, start_ms: int, end_ms: int, every_ms: int | None, agg: str) -> list[tuple[int, float | None, int]]:
        if agg not in AGGREGATES:
            raise InputError("BAD_AGGREGATE", f"unknown aggregate {agg!r}", hint="use one of " + ", ".join(AGGREGATES))
        c = self._conn()
        bucket = "?" if every_ms is None else "(ts - (ts % ?))"
        barg = start_ms if every_ms is None else every_ms
        if agg in ("first", "last"):
            order = "MIN" if agg == "first" else "MAX"
            # SQLite: a bare column next to MIN()/MAX() comes from the row holding that extreme
            sql = f"SELECT {bucket} AS b, value, {order}(ts), COUNT(*) FROM obs WHERE series=? AND ts>=? AND ts<? GROUP BY b ORDER BY b"
            return [(int(b), v, int(n)) for b, v, _t, n in c.execute(sql, (barg, series, start_ms, end_ms))]
        sql = f"SELECT {bucket} AS b, {AGGREGATES[agg]}, COUNT(*) FROM obs WHERE series=? AND ts>=? AND ts<? GROUP BY b ORDER BY b"
        return [(int(b), v, int(n)) for b, v, n in c.execute(sql, (barg, series, start_ms, end_ms))]

    def delete_project(self, project: str) -> None:
        c = self._conn()
        with self._write_lock:
            c.execute("BEGIN")
            c.execute("DELETE FROM obs WHERE series IN (SELECT id FROM series WHERE project=?)", (project,))
            c.execute("DELETE FROM series WHERE project=?", (project,))
            c.execute("COMMIT")
        self._series_cache.clear()

    def close(self) -> None:
        c = getattr(self._local, "conn", None)
        if c is not None:
            c.close()
            self._local.conn = None


def history_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / "timeseries" / "history.sqlite"


def open_history(data_dir: str | Path, *, read_only: bool = False, url: str = "sqlite") -> TimeSeriesStore:
    """The history store the settings name: ``url`` is ``KG_TWIN_TIMESERIES`` (``sqlite``: the embedded
    file under ``data_dir``; ``postgresql://...``: :class:`kg_twin.live.postgres.PostgresTimeSeriesStore`).

    >>> import tempfile
    >>> type(open_history(tempfile.mkdtemp())).__name__
    'SQLiteTimeSeriesStore'
    """
    from kg_twin.live.postgres import PostgresTimeSeriesStore, is_postgres_url  # imports this module's types

    if is_postgres_url(url):
        return PostgresTimeSeriesStore(url, read_only=read_only)
    if url != "sqlite":
        raise InputError("BAD_SETTING", f"unknown time-series store {url!r}", hint="set KG_TWIN_TIMESERIES to 'sqlite' or a postgresql:// URL")
    return SQLiteTimeSeriesStore(history_path(data_dir), read_only=read_only)
