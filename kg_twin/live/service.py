"""The live twin: readings in, history out, current state in the graph, alerts.

:class:`LiveService` works on a :class:`~kg_twin.core.Core` (store, projects, naming, change
notification); the composition root owns one (``twin.live_service()``).
Every channel (REST batches, MQTT, the simulator, the CLI) calls :meth:`LiveService.ingest`:

1. each reading is checked against the project's point catalogue (known point,
   ISO 8601 timestamp with a timezone, numeric value or state, matching unit);
   rejected readings get a reason, the rest of the batch is kept;
2. accepted readings are appended to the history (:mod:`kg_twin.live.timeseries`) in
   one transaction;
3. the newest reading per point is buffered; threshold rules are evaluated in order
   (state per rule and point, so one alert per crossing); subscribers are told;
4. a flusher thread writes the buffered last-known values (and alert events) into the
   project's ``state`` / ``events`` graphs with ONE SPARQL update per project every
   ``live_flush_s`` seconds, then evaluates the SPARQL rules of the projects it touched.

>>> import tempfile
>>> from kg_twin.settings import Settings
>>> from kg_twin.service import create_twin
>>> twin = create_twin(Settings(store="memory", data_dir=tempfile.mkdtemp()))
>>> _ = twin.projects.create("demo")
>>> twin.store.load(b'<http://example.org/b#co2> a <https://brickschema.org/schema/Brick#CO2_Sensor> .', format="turtle", graph=twin.naming.graph("demo", "model"))
1
>>> live = LiveService(twin, start=False)
>>> r = live.ingest("demo", [RawReading("co2", "2024-05-01T10:00:00Z", 612)])
>>> r.accepted, r.rejected
(1, 0)
>>> live.flush(); live.close(); twin.close()
1
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import defaultdict
from operator import itemgetter
from pathlib import Path
from typing import Any, Iterable

from kg_twin.core import Core
from kg_twin.errors import KgTwinError
from kg_twin.live.batch import QUALITY_P, TIME_P, VALUE_P, IngestResult, Locator, Pending, Reject, short_hash, value_lines
from kg_twin.live.events import EventHub
from kg_twin.live.points import Catalog, Point, PointCatalogs, normalize_unit
from kg_twin.store import QueryRequest
from kg_twin.live.readings import BadTime, RawReading, Reading, format_time, parse_time, parse_value
from kg_twin.live.rules import Rule, RuleStore, parse_rule
from kg_twin.live.timeseries import TimeSeriesStore, open_history
from kg_twin.rdf import IRI, Literal, NTriplesWriter, XSD_DATETIME, XSD_DOUBLE
from kg_twin.terms import BRICK, KGT, PROV, RDF, RDFS, REF, SOSA

log = logging.getLogger(__name__)

REC = "https://w3id.org/rec#"
FUTURE_LIMIT_MS = 24 * 3600 * 1000
NEVER = -(2**62)
_INF, _NINF = float("inf"), float("-inf")
_SERIES_TS = itemgetter(0, 1)
_ACTIVE: list["LiveService"] = []  # running services of this process (SPARQL functions in-process)


class LiveService:
    def __init__(self, core: Core, *, start: bool = True, history: TimeSeriesStore | None = None) -> None:
        self.core = core
        self.settings = core.settings
        self.naming = core.naming
        self.flush_s = float(self.settings.live_flush_s)
        self.notify_on_flush = bool(self.settings.live_notify)
        self.data_dir = Path(self.settings.data_dir)
        self.history: TimeSeriesStore = history or open_history(self.data_dir, url=self.settings.timeseries)
        self.rules = RuleStore(self.data_dir / "timeseries" / "live.sqlite")
        self.catalogs = PointCatalogs(core, self.state_graph)
        self.hub = EventHub()
        self._lock = threading.RLock()
        self._flush_lock = threading.Lock()
        self._pending: dict[str, dict[str, Pending]] = defaultdict(dict)
        self._alerts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._state_changes: dict[str, list[tuple[str, str, bool, int]]] = defaultdict(list)
        self._static_written: dict[str, set[str]] = {}
        self._written: dict[str, dict[str, str]] = {}  # project -> point -> value lines last inserted
        self._nodes: dict[str, dict[str, str]] = {}  # project -> point -> its last-known-value node (N-Triples)
        self._latest: dict[tuple[str, str], int] = {}
        self._series: dict[tuple[str, str], int] = {}
        self._rule_state: dict[str, dict[tuple[str, str], bool]] = {}
        self._applicable: dict[tuple[str, str], list[Rule]] = {}
        self._sparql_dirty: set[str] = set()
        self._in_flush = threading.local()
        self.stats = {"accepted": 0, "rejected": 0, "flushes": 0, "flushed_points": 0, "alerts": 0, "last_flush_s": 0.0}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.mqtt: Any = None
        core.on_change(self._on_change)
        _ACTIVE.append(self)
        if start:
            self.start()

    # ------------------------------------------------------------------ naming
    def state_graph(self, project: str) -> str:
        return self.naming.graph(project, "state")

    def events_graph(self, project: str) -> str:
        return self.naming.graph(project, "events")

    def database_iri(self, project: str) -> str:
        return self.naming.mint(project, "database", "history")

    def rule_iri(self, project: str, rid: str) -> str:
        return self.naming.mint(project, "rule", rid)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="kg-twin-live-flush", daemon=True)
            self._thread.start()
        url = self.settings.mqtt_url
        if url and self.mqtt is None:
            from kg_twin.live.mqtt import MqttBridge

            self.mqtt = MqttBridge(self, url, topic=self.settings.mqtt_topic)
            self.mqtt.start()

    def _loop(self) -> None:
        """Flush as soon as readings arrive, but at most once per ``flush_s`` (coalescing under load)."""
        last = 0.0
        while not self._stop.is_set():
            self._wake.wait(self.flush_s)
            wait = last + self.flush_s - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                break
            self._wake.clear()
            last = time.monotonic()
            try:
                self.flush()
            except Exception:  # keep the flusher alive; the pending state is kept for the next round
                log.exception("live state flush failed")

    def close(self) -> None:
        self.core.changes.remove(self._on_change)
        if self.mqtt is not None:
            self.mqtt.stop()
            self.mqtt = None
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        try:
            self.flush()
        except KgTwinError:
            log.exception("final live flush failed")
        self.hub.close()
        self.history.close()
        if self in _ACTIVE:
            _ACTIVE.remove(self)

    def _on_change(self, project: str) -> None:
        if getattr(self._in_flush, "on", False):
            return
        self.catalogs.invalidate(project)
        if not self.core.projects.exists(project):
            self.purge(project)
        with self._lock:
            self._applicable = {k: v for k, v in self._applicable.items() if k[0] != project}
            self._static_written.pop(project, None)
            self._written.pop(project, None)

    def purge(self, project: str) -> None:
        """Forget a deleted project: its history, rules, rule states and buffered state.

        A project created later with the same id starts empty (no history leaks across projects).
        """
        with self._lock:
            self._pending.pop(project, None)
            self._alerts.pop(project, None)
            self._state_changes.pop(project, None)
            self._rule_state.pop(project, None)
            self._latest = {k: v for k, v in self._latest.items() if k[0] != project}
            self._applicable = {k: v for k, v in self._applicable.items() if k[0] != project}
            self._static_written.pop(project, None)
            self._written.pop(project, None)
            self._nodes.pop(project, None)
        self.history.delete_project(project)
        self.rules.delete_project(project)
        log.info("live data of deleted project %s removed", project)

    # ------------------------------------------------------------------ ingest
    def _prepare(self, project: str, cat: Catalog) -> dict[str, int]:
        """Series ids of every point of the catalogue (created in one transaction) and their newest times."""
        if cat.series is None:
            sids = self.history.ensure_many(self.state_graph(project), project, [(p.iri, p.ts_id, p.unit) for p in cat.points.values()])
            latest = self.history.latest_times([sids[i] for i in cat.points if i in sids])
            with self._lock:
                for iri in cat.points:
                    self._latest.setdefault((project, iri), latest.get(sids[iri], NEVER))
            cat.series = sids
        return cat.series

    def ingest(self, project: str, readings: Iterable[Reading]) -> IngestResult:
        """Check, store and publish a batch of readings of one project (see module doc).

        Rejects carry the reading's position in the batch (``index``, 0-based).
        """
        self.core.projects.get(project)  # NotFound for an unknown project
        res = IngestResult()
        locator = Locator(self, project)
        found, locate = locator.found, locator.locate
        obs: list[tuple[int, int, float, str | None]] = []
        good: list[tuple[Point, int, float, str | None]] = []
        unit_cache: dict[str, str] = {}
        limit = int(time.time() * 1000) + FUTURE_LIMIT_MS
        for i, r in enumerate(readings):
            try:
                pt, sid = found.get(r.point) or locate(r.point)
                ts = parse_time(r.timestamp)
            except Reject as e:
                res.reject(i, r, e.code, e.reason)
                continue
            except BadTime as e:
                res.reject(i, r, "BAD_TIMESTAMP", str(e))
                continue
            if ts > limit:
                res.reject(i, r, "FUTURE_TIMESTAMP", f"timestamp {r.timestamp} is more than a day in the future")
                continue
            if r.unit:
                u = unit_cache.get(r.unit)
                if u is None:
                    u = unit_cache[r.unit] = normalize_unit(r.unit)
                if pt.unit is not None and u != pt.unit:
                    res.reject(i, r, "UNIT_MISMATCH", f"unit {r.unit!r} does not match the point's unit <{pt.unit}>")
                    continue
            v = r.value
            if type(v) is float or (type(v) is int and not pt.boolean):
                v = float(v)
                if v != v or v in (_INF, _NINF):
                    res.reject(i, r, "BAD_VALUE", f"value {r.value!r} is not a finite number")
                    continue
            else:
                try:
                    v = parse_value(v, pt.boolean)
                except ValueError as e:
                    res.reject(i, r, "BAD_VALUE", str(e))
                    continue
            if pt.boolean and v not in (0.0, 1.0):
                res.reject(i, r, "BAD_VALUE", f"value {r.value!r} is not a state (0/1, true/false, on/off) for a status point")
                continue
            q = r.quality
            obs.append((sid, ts, v, q))
            good.append((pt, ts, v, q))
        obs.sort(key=_SERIES_TS)  # primary-key order: consecutive inserts hit the same B-tree pages
        self.history.append(obs)
        res.accepted = len(obs)
        if good:
            self._advance(project, good, res)
            self._wake.set()
        with self._lock:
            self.stats["accepted"] += res.accepted
            self.stats["rejected"] += res.rejected
        return res

    def _advance(self, project: str, good: list[tuple[Point, int, float, str | None]], res: IngestResult) -> None:
        watched = self.hub.watched.get(project) or ()
        rules = [r for r in self.rules.list(project) if r.kind == "threshold"]
        if rules and project not in self._rule_state:
            self._rule_state[project] = self.rules.load_state(project)
        rstate = self._rule_state.get(project, {})
        if not rules and not watched:
            # nothing needs each reading in order: keep only the newest per point of the batch
            newest: dict[str, tuple[Point, int, float, str | None]] = {}
            for g in good:
                cur = newest.get(g[0].iri)
                if cur is None or g[1] >= cur[1]:
                    newest[g[0].iri] = g
            good = list(newest.values())
        with self._lock:
            pend = self._pending[project]
            latest = self._latest
            for pt, ts, v, q in good:
                skey = (project, pt.iri)
                if ts < latest.get(skey, NEVER):
                    continue  # older than the current state: history only
                latest[skey] = ts
                pend[pt.iri] = Pending(pt, ts, v, q)
                if pt.iri in watched:
                    self.hub.publish(project, "reading", {"point": pt.iri, "id": pt.ts_id, "time": format_time(ts), "value": v}, point=pt.iri)
                if rules:
                    app = self._applicable.get(skey)
                    if app is None:
                        app = self._applicable[skey] = [r for r in rules if r.applies(pt)]
                    for rule in app:
                        was = rstate.get((rule.id, pt.iri), False)
                        now_active = rule.is_active(v, was)
                        if now_active != was:
                            rstate[(rule.id, pt.iri)] = now_active
                            self._raise(project, rule, pt.iri, pt.ts_id, v, ts, now_active)
                            res.alerts += 1

    def _raise(self, project: str, rule: Rule, point: str | None, ts_id: str | None, value: float | None, ts: int, active: bool, detail: dict[str, Any] | None = None) -> None:
        aid = uuid.uuid4().hex
        alert = {
            "id": aid,
            "iri": self.naming.mint(project, "alert", aid),
            "rule": rule.id,
            "rule_iri": self.rule_iri(project, rule.id),
            "label": rule.label,
            "state": "raised" if active else "cleared",
            "point": point,
            "point_id": ts_id,
            "value": value,
            "observed": format_time(ts),
            "time": format_time(int(time.time() * 1000)),
        }
        if detail:
            alert["detail"] = detail
        with self._lock:
            self._alerts[project].append(alert)
            self._state_changes[project].append((rule.id, point or "", active, ts))
            self.stats["alerts"] += 1
        self.hub.publish(project, "alert", alert)

    # ------------------------------------------------------------------ flush
    def flush(self) -> int:
        """Write buffered last-known values and alerts: one SPARQL update per project. Returns points written."""
        with self._flush_lock:
            with self._lock:
                pending, self._pending = self._pending, defaultdict(dict)
                alerts, self._alerts = self._alerts, defaultdict(list)
                changes, self._state_changes = self._state_changes, defaultdict(list)
            t0 = time.perf_counter()
            written = 0
            for project in set(pending) | set(alerts):
                pts = pending.get(project, {})
                try:
                    self._write_state(project, pts, alerts.get(project, []))
                except Exception:
                    with self._lock:  # put it back, unless newer values arrived meanwhile
                        for iri, p in pts.items():
                            self._pending[project].setdefault(iri, p)
                        self._alerts[project][:0] = alerts.get(project, [])
                        self._state_changes[project][:0] = changes.get(project, [])
                    raise
                self.rules.save_state(project, changes.get(project, []))
                written += len(pts)
                if pts and any(r.kind == "sparql" for r in self.rules.list(project)):
                    self._sparql_dirty.add(project)
                if self.notify_on_flush and pts:
                    self._in_flush.on = True
                    try:
                        self.core.notify(project)
                    finally:
                        self._in_flush.on = False
            for project in list(self._sparql_dirty):
                self._sparql_dirty.discard(project)
                self.evaluate_sparql_rules(project)
            if pending or alerts:
                with self._lock:
                    self.stats["flushes"] += 1
                    self.stats["flushed_points"] += written
                    self.stats["last_flush_s"] = time.perf_counter() - t0
            return written

    def _write_state(self, project: str, pts: dict[str, Pending], alerts: list[dict[str, Any]]) -> None:
        """One SPARQL update: replace the value/timestamp of each changed point's last-known-value node.

        Triples that do not change (the ``brick:lastKnownValue`` link, the node's type, the
        time-series reference) are written once. Old values this service wrote are removed with
        ``DELETE DATA`` of the very lines it inserted (kept per point); values of unknown origin
        (after a restart) with a pattern.
        """
        if not pts and not alerts:
            return
        sg, eg = self.state_graph(project), self.events_graph(project)
        static = self._static(project)
        known = self._written.setdefault(project, {})
        nodes = self._nodes.setdefault(project, {})
        w = NTriplesWriter()
        old: list[str] = []
        unknown: list[str] = []
        typ = IRI(RDF + "type")
        db = IRI(self.database_iri(project))
        new_static, new_known = [], {}
        for iri, p in pts.items():
            node = nodes.get(iri)
            if node is None:
                node = nodes[iri] = IRI(self.naming.mint(project, "last-value", short_hash(iri))).nt()
            prev = known.get(iri)
            if prev is not None:
                old.append(prev)
            elif iri in static:
                unknown.append(node)
            if iri not in static:
                pi, ni = IRI(iri), IRI(node[1:-1])
                w.add(pi, IRI(BRICK + "lastKnownValue"), ni)
                w.add(ni, typ, IRI(SOSA + "Observation"))
                w.add(ni, IRI(REC + "sourcePoint"), pi)
                ref = IRI(self.naming.mint(project, "timeseries", short_hash(iri)))
                w.add(pi, IRI(REF + "hasExternalReference"), ref)
                w.add(ref, typ, IRI(REF + "TimeseriesReference"))
                w.add(ref, IRI(REF + "hasTimeseriesId"), Literal(p.point.ts_id))
                w.add(ref, IRI(REF + "storedAt"), db)
                new_static.append(iri)
            new_known[iri] = value_lines(node, p)
        if new_static and not static:
            w.add(db, typ, IRI(REF + "Database"))
            w.add(db, IRI(RDFS + "label"), Literal("kg-twin history (embedded SQLite time-series store)"))
            w.add(db, IRI(KGT + "observationsEndpoint"), Literal(f"/projects/{project}/points/{{id}}/observations"))
        ops = []
        if unknown:
            ops.append(
                f"DELETE {{ GRAPH <{sg}> {{ ?v {VALUE_P} ?a . ?v {TIME_P} ?b . ?v {QUALITY_P} ?q }} }} "
                f"WHERE {{ VALUES ?v {{ {' '.join(unknown)} }} GRAPH <{sg}> {{ ?v {VALUE_P} ?a ; {TIME_P} ?b OPTIONAL {{ ?v {QUALITY_P} ?q }} }} }}"
            )
        if old:
            ops.append(f"DELETE DATA {{ GRAPH <{sg}> {{ {''.join(old)} }} }}")
        state_body = w.getvalue().decode("utf-8") + "".join(new_known.values())
        ev_body = self._alert_triples(project, alerts) if alerts else ""
        ins = ""
        if state_body:
            ins += f"GRAPH <{sg}> {{ {state_body} }} "
        if ev_body:
            ins += f"GRAPH <{eg}> {{ {ev_body} }} "
        ops.append(f"INSERT DATA {{ {ins}}}")
        self.core.store.update(" ;\n".join(ops))
        static.update(new_static)
        known.update(new_known)

    def _static(self, project: str) -> set[str]:
        """Points whose unchanging state triples (link, type, time-series reference) are in the graph."""
        r = self._static_written.get(project)
        if r is None:
            from kg_twin.store import Dataset

            rows = self.core.store.select(
                f"SELECT ?p WHERE {{ ?p <{BRICK}lastKnownValue> ?n ; <{REF}hasExternalReference> ?r . ?r <{REF}storedAt> <{self.database_iri(project)}> }}",
                dataset=Dataset((self.state_graph(project),), ()),
            )
            r = self._static_written[project] = {str(x["p"]) for x in rows}
        return r

    def _alert_triples(self, project: str, alerts: list[dict[str, Any]]) -> str:
        w = NTriplesWriter()
        typ = IRI(RDF + "type")
        agent = IRI(self.naming.mint(project, "agent", "kg-twin-live"))
        w.add(agent, typ, IRI(PROV + "SoftwareAgent"))
        w.add(agent, IRI(RDFS + "label"), Literal("kg-twin live rule engine"))
        for a in alerts:
            s, act, rule = IRI(a["iri"]), IRI(a["iri"] + "-evaluation"), IRI(a["rule_iri"])
            w.add(s, typ, IRI(KGT + "Alert"))
            w.add(s, typ, IRI(PROV + "Entity"))
            w.add(s, IRI(KGT + "alertState"), Literal(a["state"]))
            w.add(s, IRI(KGT + "rule"), rule)
            if a["point"]:
                w.add(s, IRI(KGT + "point"), IRI(a["point"]))
            if a["value"] is not None:
                w.add(s, IRI(KGT + "value"), Literal(repr(float(a["value"])), XSD_DOUBLE))
            w.add(s, IRI(KGT + "observedAt"), Literal(a["observed"], XSD_DATETIME))
            w.add(s, IRI(PROV + "generatedAtTime"), Literal(a["time"], XSD_DATETIME))
            w.add(s, IRI(PROV + "wasGeneratedBy"), act)
            if a["label"]:
                w.add(s, IRI(RDFS + "label"), Literal(f"{a['label']} ({a['state']})"))
            if a.get("detail"):
                w.add(s, IRI(KGT + "detail"), Literal(json.dumps(a["detail"], sort_keys=True)))
            w.add(act, typ, IRI(PROV + "Activity"))
            w.add(act, IRI(PROV + "used"), rule)
            if a["point"]:
                w.add(act, IRI(PROV + "used"), IRI(a["point"]))
            w.add(act, IRI(PROV + "endedAtTime"), Literal(a["time"], XSD_DATETIME))
            w.add(act, IRI(PROV + "wasAssociatedWith"), agent)
            w.add(rule, typ, IRI(KGT + "AlertRule"))
            w.add(rule, IRI(KGT + "ruleId"), Literal(a["rule"]))
        return w.getvalue().decode("utf-8")

    # ------------------------------------------------------------------ rules
    def add_rule(self, project: str, body: dict[str, Any]) -> Rule:
        self.core.projects.get(project)
        rule = parse_rule(body)
        if rule.kind == "sparql":
            self._check_rule_query(project, rule)
        self.rules.add(project, rule)
        with self._lock:
            self._applicable = {k: v for k, v in self._applicable.items() if k[0] != project}
            self._rule_state.pop(project, None)
        if rule.kind == "sparql":
            self._sparql_dirty.add(project)
        return rule

    def delete_rule(self, project: str, rid: str) -> None:
        self.rules.delete(project, rid)
        with self._lock:
            self._applicable = {k: v for k, v in self._applicable.items() if k[0] != project}
            self._rule_state.pop(project, None)

    def _check_rule_query(self, project: str, rule: Rule) -> None:
        from kg_twin.limits import Limits
        from kg_twin.sparql.policy import check_client_sparql

        check_client_sparql(rule.query or "", allowlist=[], limits=Limits.of(self.core.settings), base="", what=f"rule {rule.id}")
        self._run_rule_query(project, rule)  # syntax / runtime errors surface now, as 400

    def _run_rule_query(self, project: str, rule: Rule) -> dict[str, dict[str, Any]]:
        """Keys (with their bindings) for which the rule currently holds."""
        request = QueryRequest(rule.query or "", dataset=self.core.dataset_for([project]), max_rows=10_000, timeout_s=min(10.0, self.settings.query_timeout_s), project=project)
        res = self.core.store.query(request)
        data = json.loads(res.body)
        if "boolean" in data:
            return {"": {}} if data["boolean"] else {}
        out = {}
        for b in data["results"]["bindings"]:
            row = {k: v["value"] for k, v in b.items()}
            key = row.get("point") or json.dumps(row, sort_keys=True)
            out[key] = row
        return out

    def evaluate_sparql_rules(self, project: str) -> int:
        rules = [r for r in self.rules.list(project) if r.kind == "sparql"]
        if not rules:
            return 0
        if project not in self._rule_state:
            self._rule_state[project] = self.rules.load_state(project)
        rstate = self._rule_state[project]
        fired = 0
        now = int(time.time() * 1000)
        for rule in rules:
            try:
                holds = self._run_rule_query(project, rule)
            except KgTwinError as e:
                log.warning("sparql rule %s/%s failed: %s", project, rule.id, e)
                continue
            active = {k for (rid, k), a in rstate.items() if rid == rule.id and a}
            for k in holds.keys() - active:
                rstate[(rule.id, k)] = True
                pt = holds[k].get("point")
                self._raise(project, rule, pt if pt and pt.startswith(("http", "urn")) else None, None, _num(holds[k].get("value")), now, True, holds[k] or None)
                fired += 1
            for k in active - holds.keys():
                rstate[(rule.id, k)] = False
                self._raise(project, rule, k if k.startswith(("http", "urn")) else None, None, None, now, False)
                fired += 1
        return fired

    # ------------------------------------------------------------------ history
    def resolve(self, project: str, point: str) -> Point:
        cat = self.catalogs.get(project)
        pt = cat.resolve(point) or self.catalogs.refresh_if_stale(project).resolve(point)
        if pt is None:
            from kg_twin.errors import NotFound

            raise NotFound("POINT_NOT_FOUND", f"no point {point!r} in project {project!r}", hint="GET /projects/{p}/points lists the points")
        return pt

    def series_id(self, project: str, pt: Point) -> int | None:
        found = self.history.find_series(scopes=[self.state_graph(project)], point=pt.iri)
        return found[0].id if found else None

    def points(self, project: str) -> list[dict[str, Any]]:
        cat = self.catalogs.get(project)
        out = []
        for iri, pt in sorted(cat.points.items()):
            d = {"iri": iri, "id": pt.ts_id, "class": sorted(c for c in pt.classes if c not in ("Class", "Entity")), "unit": pt.unit}
            with self._lock:
                last = self._latest.get((project, iri))
            if last is not None and last > NEVER:
                d["last_time"] = format_time(last)
            out.append(d)
        return out


def _num(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def active_services() -> list[LiveService]:
    return list(_ACTIVE)
