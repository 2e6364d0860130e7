"""Readings in: parsing of batches (JSON / CSV), timestamps, durations and values.

A reading is ``{point, timestamp, value, unit?, quality?}``. ``point`` is a point's
IRI, its ``ref:hasTimeseriesId`` or the local name of its IRI. Timestamps are
ISO 8601 with a timezone (``Z`` or ``+01:00``); a timestamp without one is
rejected, never guessed. Parsing only shapes readings; every check (known point,
timestamp, value, unit) is made by :meth:`kg_twin.live.service.LiveService.ingest`.

JSON batches take one of two paths that give the same readings:

* **fast**: a batch whose every element is an object with a string ``point`` and
  ``timestamp``, a number / boolean / string ``value`` and optional string ``unit`` /
  ``quality`` (the usual shape) is decoded by msgspec straight into reading objects,
  without building a dict per reading;
* **generic**: anything else (aliases such as ``time`` or ``result``, ``null`` fields,
  ``{"observations": [...]}``, non-object elements, ``NaN``) is read with the standard
  ``json`` module, field by field.

>>> [r.value for r in parse_batch(b'[{"point": "co2", "timestamp": "2024-05-01T10:00:00Z", "value": 612}]', "application/json")]
[612]

>>> parse_time("2024-05-01T10:00:00Z")
1714557600000
>>> parse_duration("15min"), parse_duration("PT1H"), parse_duration("P1D")
(900000, 3600000, 86400000)
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol, Sequence

import msgspec

from kg_twin.limits import load_json
from kg_twin.errors import InputError

MAX_BATCH = 1_000_000


class Reading(Protocol):
    """What :meth:`~kg_twin.live.service.LiveService.ingest` reads from a reading (values not yet checked)."""

    point: str
    timestamp: Any
    value: Any
    unit: Any
    quality: Any


@dataclass(slots=True)
class RawReading:
    """A reading as received (CSV, MQTT, JSON of any accepted shape, code)."""

    point: str
    timestamp: Any
    value: Any
    unit: str | None = None
    quality: str | None = None


class JsonReading(msgspec.Struct):
    """The usual JSON shape of a reading, decoded without an intermediate dict (the fast path)."""

    point: str
    timestamp: str
    value: int | float | bool | str  # kept as JSON typed it, like json.loads does
    unit: str | None = None
    quality: str | None = None


_FAST_JSON = msgspec.json.Decoder(list[JsonReading])


class BadTime(ValueError):
    pass


_CACHE: dict[str, int] = {}


def parse_time(value: Any) -> int:
    """ISO 8601 timestamp with timezone -> epoch milliseconds. Raises :class:`BadTime`."""
    if type(value) is str:
        ms = _CACHE.get(value)
        if ms is not None:
            return ms
    if isinstance(value, bool) or value is None:
        raise BadTime("missing timestamp")
    if isinstance(value, (int, float)):
        raise BadTime("timestamp must be an ISO 8601 string with a timezone, not a number")
    s = str(value).strip()
    try:
        dt = datetime.fromisoformat(s)  # Python 3.11: ISO 8601 incl. 'Z'
    except ValueError:
        raise BadTime(f"invalid timestamp {s!r} (expected ISO 8601, e.g. 2024-05-01T10:00:00Z)") from None
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise BadTime(f"timestamp {s!r} has no timezone (add 'Z' or an offset such as +02:00)")
    ms = int(round(dt.timestamp() * 1000))
    if len(_CACHE) > 100_000:
        _CACHE.clear()
    _CACHE[value] = ms
    return ms


def format_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_SHORT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|hour|d|day|w|week)s?\s*$", re.I)
_ISO = re.compile(r"^-?P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_UNIT_MS = {"ms": 1, "s": 1000, "sec": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000, "hour": 3_600_000, "d": 86_400_000, "day": 86_400_000, "w": 604_800_000, "week": 604_800_000}


def parse_duration(text: str) -> int:
    """``15min``, ``1h``, ``30s``, ``1d`` or an xsd:dayTimeDuration (``PT15M``, ``P1D``) -> milliseconds."""
    s = str(text).strip()
    m = _SHORT.match(s)
    if m:
        ms = float(m.group(1)) * _UNIT_MS[m.group(2).lower()]
    else:
        m = _ISO.match(s)
        if not m or s in ("P", "PT") or s.endswith("T"):
            raise ValueError(f"invalid duration {text!r} (use e.g. 15min, 1h, 1d, PT15M, P1D)")
        w, d, h, mi, se = (float(x) if x else 0.0 for x in m.groups())
        ms = (((w * 7 + d) * 24 + h) * 60 + mi) * 60_000 + se * 1000
        if s.startswith("-"):
            ms = -ms
    if ms <= 0:
        raise ValueError(f"duration {text!r} must be positive")
    return int(ms)


def parse_batch(body: bytes, content_type: str) -> Sequence[Reading]:
    """Parse a JSON array (or ``{"observations": [...]}``) or CSV with a header into readings, in batch order."""
    ct = (content_type or "").split(";")[0].strip().lower()
    if ct in ("text/csv", "application/csv"):
        return _parse_csv(body)
    if ct in ("application/json", "", "application/x-ndjson") or ct.endswith("+json"):
        try:
            out: Sequence[Reading] = _FAST_JSON.decode(body)
        except msgspec.MsgspecError:  # not the usual shape (or not JSON): the generic reader decides
            out = _parse_json(body)
        _check_size(len(out))
        return out
    raise InputError("UNSUPPORTED_MEDIA_TYPE", f"cannot read observations from {ct!r}", hint="use application/json or text/csv", status=415)


def _check_size(n: int) -> None:
    if n > MAX_BATCH:
        raise InputError("BATCH_TOO_LARGE", f"{n} readings in one batch (max {MAX_BATCH})", hint="split the batch", status=413)


def _parse_json(body: bytes) -> list[RawReading]:
    """The generic JSON reader: field aliases, ``null`` fields, a wrapping object, elements of any type."""
    data = load_json(body, what="observations")
    if isinstance(data, dict) and isinstance(data.get("observations"), list):
        data = data["observations"]
    if not isinstance(data, list):
        raise InputError("BAD_BATCH", "expected a JSON array of readings", hint='e.g. [{"point": "co2_room_1", "timestamp": "2024-05-01T10:00:00Z", "value": 612}]')
    _check_size(len(data))
    out = []
    append = out.append
    for d in data:
        if type(d) is not dict:
            append(RawReading("", None, None))  # rejected later: not an object
            continue
        p = d.get("point")
        if p is None:
            p = d.get("id") or d.get("iri") or ""
        ts = d.get("timestamp")
        if ts is None:
            ts = d.get("time", d.get("phenomenonTime"))
        v = d.get("value")
        if v is None and "result" in d:
            v = d["result"]
        q = d.get("quality")
        append(RawReading(p if type(p) is str else "", ts, v, d.get("unit"), None if q is None else str(q)))
    return out


def _parse_csv(body: bytes) -> list[RawReading]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError("BAD_CSV", f"CSV is not UTF-8: {e}") from None
    rd = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(rd)]
    except StopIteration:
        return []
    cols = {}
    for name, aliases in {"point": ("point", "id", "iri", "point_id"), "timestamp": ("timestamp", "time", "ts"), "value": ("value", "result"), "unit": ("unit",), "quality": ("quality",)}.items():
        for a in aliases:
            if a in header:
                cols[name] = header.index(a)
                break
    missing = [c for c in ("point", "timestamp", "value") if c not in cols]
    if missing:
        raise InputError("BAD_CSV", f"CSV header lacks column(s) {', '.join(missing)}", hint="header: point,timestamp,value[,unit,quality]", where={"row": 1})
    out = []
    pi, ti, vi = cols["point"], cols["timestamp"], cols["value"]
    ui, qi = cols.get("unit"), cols.get("quality")
    for i, row in enumerate(rd):
        if not row:
            continue
        g = lambda j: row[j].strip() if j is not None and j < len(row) else None  # noqa: E731
        out.append(RawReading(g(pi) or "", g(ti), g(vi), g(ui) or None, g(qi) or None))
        _check_size(len(out))
    return out


_BOOL = {"true": 1.0, "false": 0.0, "on": 1.0, "off": 0.0, "1": 1.0, "0": 0.0, "active": 1.0, "inactive": 0.0}


def parse_value(v: Any, boolean: bool) -> float:
    """Reading value -> float. Raises ValueError with a reason."""
    if isinstance(v, bool):
        if boolean:
            return 1.0 if v else 0.0
        raise ValueError("boolean value for a numeric point")
    if isinstance(v, (int, float)):
        f = float(v)
    elif isinstance(v, str):
        s = v.strip()
        if boolean and s.lower() in _BOOL:
            return _BOOL[s.lower()]
        try:
            f = float(s)
        except ValueError:
            raise ValueError(f"value {v!r} is not a number") from None
    elif v is None:
        raise ValueError("missing value")
    else:
        raise ValueError(f"value {v!r} is not a number")
    if f != f or f in (float("inf"), float("-inf")):
        raise ValueError(f"value {v!r} is not a finite number")
    if boolean and f not in (0.0, 1.0):
        raise ValueError(f"value {v!r} is not a state (0/1, true/false, on/off) for a status point")
    return f
