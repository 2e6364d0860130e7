"""The SQL both history backends share (SQLite in :mod:`kg_twin.live.timeseries`, PostgreSQL in
:mod:`kg_twin.live.postgres`): series lookup and creation, raw readings, the latest reading.

Statements are written once with ``?`` placeholders; a backend whose driver uses another paramstyle sets
``PARAM`` and :meth:`SqlSeriesStore.sql` rewrites them. What differs between the dialects (null-safe
comparison, a list parameter, transactions, aggregates) stays in the backends.

>>> class Pg(SqlSeriesStore):
...     PARAM = "%s"
>>> Pg().sql("SELECT id FROM series WHERE scope=? AND point=?")
'SELECT id FROM series WHERE scope=%s AND point=%s'
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

AGGREGATES = {"avg": "AVG(value)", "min": "MIN(value)", "max": "MAX(value)", "count": "COUNT(value)", "sum": "SUM(value)", "first": None, "last": None}
Row = tuple[int, float, "str | None"]  # (ts_ms, value, quality)
Obs = tuple[int, int, float, "str | None"]  # (series, ts_ms, value, quality)


@dataclass(frozen=True)
class Series:
    id: int
    scope: str
    point: str
    ts_id: str
    project: str
    unit: str | None


class SqlSeriesStore:
    """Shared part of a :class:`~kg_twin.live.timeseries.TimeSeriesStore` over a DB-API connection.

    Subclasses provide ``_conn()`` (one connection per thread), may set ``PARAM`` (the placeholder),
    ``NOT_SAME`` (null-safe "differs") and override :meth:`scope_filter` for a list of scopes.
    """

    PARAM = "?"
    NOT_SAME = "IS NOT"

    def __init__(self) -> None:
        self._write_lock = threading.Lock()
        self._series_cache: dict[tuple[str, str], int] = {}

    def _conn(self) -> Any:
        raise NotImplementedError

    def sql(self, text: str) -> str:
        return text if self.PARAM == "?" else text.replace("?", self.PARAM)

    def execute(self, text: str, args: Sequence[Any] = ()) -> Any:
        return self._conn().execute(self.sql(text), args)

    # series -----------------------------------------------------------------
    def ensure_series(self, scope: str, point: str, *, ts_id: str, project: str, unit: str | None = None) -> int:
        key = (scope, point)
        sid = self._series_cache.get(key)
        if sid is not None:
            return sid
        row = self.execute("SELECT id FROM series WHERE scope=? AND point=?", key).fetchone()
        if row is None:
            with self._write_lock:
                self.execute("INSERT INTO series (scope, point, ts_id, project, unit) VALUES (?,?,?,?,?) ON CONFLICT (scope, point) DO NOTHING", (scope, point, ts_id, project, unit))
                row = self.execute("SELECT id FROM series WHERE scope=? AND point=?", key).fetchone()
        elif unit is not None:
            self.execute(f"UPDATE series SET unit=?, ts_id=? WHERE id=? AND (unit {self.NOT_SAME} ? OR ts_id {self.NOT_SAME} ?)", (unit, ts_id, row[0], unit, ts_id))
        assert row is not None  # inserted or found just above
        self._series_cache[key] = int(row[0])
        return int(row[0])

    def series_rows(self, scope: str, project: str, points: Sequence[tuple[str, str, "str | None"]]) -> tuple[str, list, str, list]:
        """The two statements (and their rows) :meth:`ensure_many` runs in one transaction."""
        insert = self.sql("INSERT INTO series (scope, point, ts_id, project, unit) VALUES (?,?,?,?,?) ON CONFLICT (scope, point) DO NOTHING")
        update = self.sql(f"UPDATE series SET ts_id=?, unit=? WHERE scope=? AND point=? AND (ts_id {self.NOT_SAME} ? OR unit {self.NOT_SAME} ?)")
        return insert, [(scope, p, t, project, u) for p, t, u in points], update, [(t, u, scope, p, t, u) for p, t, u in points]

    def cache_scope(self, scope: str) -> dict[str, int]:
        out = {p: int(i) for i, p in self.execute("SELECT id, point FROM series WHERE scope=?", (scope,))}
        for p, i in out.items():
            self._series_cache[(scope, p)] = i
        return out

    def scope_filter(self, scopes: Sequence[str]) -> tuple[str, list]:
        return f"scope IN ({','.join('?' * len(scopes))})", list(scopes)

    def find_series(self, *, project: str | None = None, scopes: Sequence[str] | None = None, point: str | None = None, ts_id: str | None = None) -> list[Series]:
        where, args = [], []
        if scopes is not None:
            if not scopes:
                return []
            clause, values = self.scope_filter(scopes)
            where.append(clause)
            args.extend(values)
        for column, value in (("project", project), ("point", point), ("ts_id", ts_id)):
            if value is not None:
                where.append(f"{column}=?")
                args.append(value)
        text = "SELECT id, scope, point, ts_id, project, unit FROM series" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        return [Series(int(r[0]), *r[1:]) for r in self.execute(text, args)]

    # data -------------------------------------------------------------------
    def raw(self, series: int, start_ms: int, end_ms: int, limit: int) -> list[Row]:
        rows = self.execute("SELECT ts, value, quality FROM obs WHERE series=? AND ts>=? AND ts<? ORDER BY ts LIMIT ?", (series, start_ms, end_ms, limit))
        return [(int(t), float(v), q) for t, v, q in rows]

    def latest(self, series: int) -> Row | None:
        r = self.execute("SELECT ts, value, quality FROM obs WHERE series=? ORDER BY ts DESC LIMIT 1", (series,)).fetchone()
        return (int(r[0]), float(r[1]), r[2]) if r else None

    def latest_all(self, series_ids: Iterable[int]) -> dict[int, Row]:
        out = {}
        for sid in series_ids:
            r = self.latest(sid)
            if r:
                out[sid] = r
        return out

    def count(self) -> int:
        return int(self.execute("SELECT COUNT(*) FROM obs").fetchone()[0])
