"""Alert rules: threshold rules on classes of points, and SPARQL rules over current state.

* ``threshold``: ``{"kind": "threshold", "class": "brick:CO2_Sensor", "op": ">", "value": 1000, "clear": 950}``
  applies to every point of that Brick class (subclasses included) or to the listed
  ``points``. It *raises* when a reading crosses the threshold and *clears* when the
  value comes back past ``clear`` (default: the threshold itself; ``clear`` gives hysteresis).
  One alert per crossing: the state per (rule, point) is kept and persisted.
* ``sparql``: ``{"kind": "sparql", "query": "ASK { ... }"}`` or a ``SELECT`` over the project's
  graphs (state included), evaluated after each state flush that touched the project.
  ASK raises on false -> true and clears on true -> false; SELECT raises once per new row
  (keyed by ``?point`` when projected, else by the whole row) and clears when the row disappears.
"""

from __future__ import annotations

import math

import json
import re
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kg_twin.errors import Conflict, InputError, NotFound
from kg_twin.live import brickclasses
from kg_twin.terms import BRICK, PREFIXES

OPS = {">": lambda v, t: v > t, ">=": lambda v, t: v >= t, "<": lambda v, t: v < t, "<=": lambda v, t: v <= t}
RULE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def expand(curie: str) -> str:
    if curie.startswith(("http://", "https://", "urn:")):
        return curie
    pfx, sep, rest = curie.partition(":")
    if sep and pfx in PREFIXES:
        return PREFIXES[pfx] + rest
    if not sep:
        return BRICK + curie
    raise InputError("BAD_CLASS", f"unknown prefix in {curie!r}", hint="use brick:Class_Name or a full IRI")


@dataclass
class Rule:
    id: str
    kind: str
    label: str = ""
    cls: str | None = None
    points: list[str] = field(default_factory=list)
    op: str = ">"
    value: float = 0.0
    clear: float | None = None
    query: str | None = None
    created: str = ""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "kind": self.kind, "label": self.label, "created": self.created}
        if self.kind == "threshold":
            d.update({"class": self.cls, "points": self.points, "op": self.op, "value": self.value, "clear": self.clear_level})
        else:
            d["query"] = self.query
        return d

    @property
    def clear_level(self) -> float:
        return self.value if self.clear is None else self.clear

    def applies(self, point: Any) -> bool:
        if self.points:
            return point.iri in self.points or point.ts_id in self.points
        return self.cls is not None and point.is_a(self.cls)

    def is_active(self, v: float, was_active: bool) -> bool:
        """Hysteresis: raise past ``value``; once raised, stay until past ``clear``."""
        if not was_active:
            return OPS[self.op](v, self.value)
        if self.op in (">", ">="):
            return v > self.clear_level if self.op == ">" else v >= self.clear_level
        return v < self.clear_level if self.op == "<" else v <= self.clear_level


def parse_rule(body: dict[str, Any]) -> Rule:
    if not isinstance(body, dict):
        raise InputError("BAD_RULE", "a rule is a JSON object")
    rid = str(body.get("id", ""))
    if not RULE_ID_RE.match(rid):
        raise InputError("BAD_RULE_ID", f"invalid rule id {rid!r}", hint="letters, digits, '_', '.', '-' (max 64)")
    kind = body.get("kind", "threshold" if "class" in body or "points" in body else "sparql" if "query" in body else "")
    label = str(body.get("label", ""))
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if kind == "threshold":
        op = body.get("op", ">")
        if op not in OPS:
            raise InputError("BAD_RULE", f"unknown operator {op!r}", hint="use >, >=, < or <=")
        try:
            value = float(body["value"])
            clear = None if body.get("clear") is None else float(body["clear"])
        except (KeyError, TypeError, ValueError):
            raise InputError("BAD_RULE", "a threshold rule needs a numeric 'value' (and optionally 'clear')") from None
        if not math.isfinite(value) or (clear is not None and not math.isfinite(clear)):
            raise InputError("BAD_RULE", "'value' and 'clear' must be finite numbers", hint="e.g. value 1000, clear 950")
        if clear is not None and ((op in (">", ">=") and clear > value) or (op in ("<", "<=") and clear < value)):
            raise InputError("BAD_RULE", f"'clear' ({clear}) must be on the other side of 'value' ({value}) for {op}", hint="e.g. value 1000, clear 950 for '>'")
        cls = body.get("class")
        points = body.get("points") or []
        if not cls and not points:
            raise InputError("BAD_RULE", "a threshold rule needs a 'class' (e.g. brick:CO2_Sensor) or a list of 'points'")
        if cls:
            cls = expand(str(cls))
            if not brickclasses.is_point_class(cls):
                raise InputError("BAD_RULE", f"{cls} is not a Brick point class", hint="e.g. brick:CO2_Sensor, brick:Zone_Air_Temperature_Sensor")
        if not isinstance(points, list) or not all(isinstance(p, str) for p in points):
            raise InputError("BAD_RULE", "'points' must be a list of point ids or IRIs")
        return Rule(rid, "threshold", label, cls, list(points), op, value, clear, None, created)
    if kind == "sparql":
        q = str(body.get("query", "")).strip()
        form = _form(q)
        if form not in ("ASK", "SELECT"):
            raise InputError("BAD_RULE", "a sparql rule needs an ASK or SELECT 'query'")
        return Rule(rid, "sparql", label, query=q, created=created)
    raise InputError("BAD_RULE", f"unknown rule kind {kind!r}", hint="use 'threshold' or 'sparql'")


def _form(q: str) -> str:
    from kg_twin.sparql.protocol import query_form

    return query_form(q)


class RuleStore:
    """Rules and their per-(rule, key) state, in the live SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._lock = threading.Lock()
        c = self._conn()
        c.executescript(
            """CREATE TABLE IF NOT EXISTS rules (project TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (project, id));
               CREATE TABLE IF NOT EXISTS rule_state (project TEXT NOT NULL, rule TEXT NOT NULL, key TEXT NOT NULL, active INTEGER NOT NULL,
                    since INTEGER NOT NULL, PRIMARY KEY (project, rule, key));"""
        )
        self._cache: dict[str, list[Rule]] = {}

    def _conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            c = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
            c.execute("PRAGMA journal_mode=WAL")
            self._local.conn = c
        return c

    def list(self, project: str) -> list[Rule]:
        r = self._cache.get(project)
        if r is None:
            rows = self._conn().execute("SELECT body FROM rules WHERE project=? ORDER BY id", (project,)).fetchall()
            r = [_rule_from(json.loads(b)) for (b,) in rows]
            self._cache[project] = r
        return r

    def get(self, project: str, rid: str) -> Rule:
        for r in self.list(project):
            if r.id == rid:
                return r
        raise NotFound("RULE_NOT_FOUND", f"no rule {rid!r} in project {project!r}")

    def add(self, project: str, rule: Rule) -> Rule:
        with self._lock:
            if any(r.id == rule.id for r in self.list(project)):
                raise Conflict("RULE_EXISTS", f"rule {rule.id!r} already exists", hint="delete it first or pick another id")
            self._conn().execute("INSERT INTO rules (project, id, body) VALUES (?,?,?)", (project, rule.id, json.dumps(rule.__dict__)))
            self._cache.pop(project, None)
        return rule

    def delete(self, project: str, rid: str) -> None:
        with self._lock:
            self.get(project, rid)
            c = self._conn()
            c.execute("DELETE FROM rules WHERE project=? AND id=?", (project, rid))
            c.execute("DELETE FROM rule_state WHERE project=? AND rule=?", (project, rid))
            self._cache.pop(project, None)

    def delete_project(self, project: str) -> None:
        c = self._conn()
        with self._lock:
            c.execute("DELETE FROM rules WHERE project=?", (project,))
            c.execute("DELETE FROM rule_state WHERE project=?", (project,))
            self._cache.pop(project, None)

    def load_state(self, project: str) -> dict[tuple[str, str], bool]:
        rows = self._conn().execute("SELECT rule, key, active FROM rule_state WHERE project=?", (project,)).fetchall()
        return {(r, k): bool(a) for r, k, a in rows}

    def save_state(self, project: str, changes: list[tuple[str, str, bool, int]]) -> None:
        if not changes:
            return
        c = self._conn()
        with self._lock:
            c.execute("BEGIN")
            c.executemany(
                "INSERT OR REPLACE INTO rule_state (project, rule, key, active, since) VALUES (?,?,?,?,?)",
                [(project, r, k, int(a), t) for r, k, a, t in changes],
            )
            c.execute("COMMIT")


def _rule_from(d: dict[str, Any]) -> Rule:
    return Rule(**d)
