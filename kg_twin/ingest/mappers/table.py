"""Asset registers and point lists (CSV / TSV / XLSX) -> Brick.

The ``table`` handler reads rows (:mod:`kg_twin.ingest.readers.table`), proposes a mapping by
profiling the columns, and maps rows to Brick entities with that mapping. The mapping is a
YAML-able dict a person can review, edit and pass back (``--mapping FILE``); the same file
with the same mapping always gives the same graph. Format (see ``docs/ingest-tables.md``)::

    version: 1
    handler: table
    source: {encoding: utf-8, delimiter: ",", sheet: null}
    entity:                      # what one row is
      kind: point                # point | equipment | location  (IRI = mint(kind, key))
      key: Point Name            # column whose value identifies the row
      label: Point Name
      class: {classify: Point Name}   # or {column: Type} or {value: brick:Thermostat}
    columns:
      Room:   {role: room, relation: brick:hasLocation}
      Equip:  {role: equipment, relation: brick:isPointOf}
      Units:  {role: unit}
      temp:   {role: point, class: brick:Temperature_Sensor, relation: brick:hasPoint}
      Area:   {role: property, property: <IRI or CURIE>, datatype: xsd:decimal}
      Notes:  {role: ignore}

Every decision of a proposal carries ``confidence`` (0..1) and ``why``.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable, Iterator, Union

from kg_twin.errors import InputError
from kg_twin.ingest.base import MapContext, RecordSource, Triple, register
from kg_twin.ingest.labels import (
    EQUIPMENT_ABBREVIATIONS,
    Classification,
    Corrections,
    brick_class_of,
    brick_index,
    classify,
    find_equipment,
    review_report,
)
from kg_twin.ingest.labels.learned import CLASSIFIERS, classify_point
from kg_twin.ingest.mappers.units import qudt_unit
from kg_twin.ingest.readers.table import TEXT_EXTENSIONS, XLSX_EXTENSIONS, read_table, sniff_table
from kg_twin.models import Record, Reject
from kg_twin.rdf import IRI, RDF_TYPE, XSD, Literal
from kg_twin.terms import BRICK, KGT, PREFIXES, RDFS

A = IRI(RDF_TYPE)
LABEL = IRI(RDFS + "label")
COMMENT = IRI(RDFS + "comment")
SOURCE = IRI(KGT + "source")
ORIGIN = IRI(KGT + "origin")
CONFIDENCE = IRI(KGT + "confidence")
REVIEW = IRI(KGT + "reviewReason")
REVIEW_PATTERNS = 30  # name patterns listed in a proposal's review section
UNIT_TEXT = IRI(KGT + "unitText")
HAS_UNIT = IRI(BRICK + "hasUnit")
HAS_POINT = BRICK + "hasPoint"
IS_POINT_OF = BRICK + "isPointOf"
HAS_LOCATION = BRICK + "hasLocation"
IS_PART_OF = BRICK + "isPartOf"
ROOM = BRICK + "Room"

ROLES = ("key", "label", "class", "point", "equipment", "room", "unit", "property", "ignore")
KINDS = ("point", "equipment", "location")
PROFILE_ROWS = 1000

_KEY_WORDS = {"id", "name", "tag", "point", "key", "code", "identifier", "ref", "tstat", "asset"}
_LABEL_WORDS = {"name", "label", "dis", "title"}
_DESC_WORDS = {"description", "desc", "comment", "comments", "remarks", "notes"}
_ROOM_WORDS = {"room", "space", "location", "rm", "local", "salle", "piece"}
_EQUIP_WORDS = {"equip", "equipment", "asset", "device", "parent", "system", "unit"}
_UNIT_WORDS = {"unit", "units", "uom", "engunit", "eng_unit", "engineering_unit"}
_CLASS_WORDS = {"class", "type", "brick", "brick_class", "brickclass", "kind"}
_GENERIC = {"name", "id", "tag", "point", "label", "ref", "value", "pt"}
_ROOM_VALUE = re.compile(r"^(?:(?:RM|ROOM|Room|room|Rm)[-_ ]?\d+[A-Za-z]?|R\d{3,4}[A-Za-z]?|\d{3,4}[A-Za-z]?)$")


def _words_of(header: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", re.sub(r"(?<=[a-z])(?=[A-Z])", " ", header).lower()) if w]


def expand_curie(value: str) -> str:
    """``brick:Room`` -> full IRI; full IRIs (``http...``, ``<...>``) pass."""
    v = str(value).strip()
    if v.startswith("<") and v.endswith(">"):
        return v[1:-1]
    if re.match(r"^[a-z][a-z0-9+.-]*://", v, re.I) or v.startswith("urn:"):
        return v
    prefix, sep, local = v.partition(":")
    if sep and prefix in PREFIXES:
        return PREFIXES[prefix] + local
    raise InputError("BAD_MAPPING", f"cannot expand {v!r} to an IRI", hint="use a full IRI or one of the prefixes " + ", ".join(sorted(PREFIXES)))


def _dtype(values: list[Any]) -> str:
    """Datatype most values fit (80%); the rest become rejects with a reason when mapped."""

    def all_(pred: Any) -> bool:
        return bool(values) and sum(1 for v in values if pred(v)) >= 0.8 * len(values)

    if all_(lambda v: isinstance(v, bool) or str(v).strip().lower() in ("true", "false", "yes", "no")):
        return "boolean"
    if all_(lambda v: isinstance(v, int) and not isinstance(v, bool) or re.fullmatch(r"[-+]?\d+", str(v).strip()) is not None):
        return "integer"
    if all_(lambda v: isinstance(v, float) or re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", str(v).strip()) is not None):
        return "decimal"
    if all_(lambda v: isinstance(v, (_dt.date, _dt.datetime)) or re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(v).strip()) is not None):
        return "date"
    return "string"


def literal_of(value: Any, datatype: str) -> Literal:
    """Typed literal for a cell; raises ValueError with a readable message when it does not fit."""
    dt = datatype.split(":", 1)[-1] if not datatype.startswith("http") else datatype.rsplit("#", 1)[-1]
    s = value if isinstance(value, str) else value
    if dt == "boolean":
        if isinstance(s, bool):
            return Literal.of(s)
        low = str(s).strip().lower()
        if low in ("true", "yes", "1"):
            return Literal("true", XSD + "boolean")
        if low in ("false", "no", "0"):
            return Literal("false", XSD + "boolean")
        raise ValueError(f"{value!r} is not a boolean (true/false/yes/no)")
    if dt == "integer":
        if isinstance(s, float) and s.is_integer():
            s = int(s)
        if isinstance(s, int) and not isinstance(s, bool):
            return Literal(str(s), XSD + "integer")
        if re.fullmatch(r"[-+]?\d+", str(s).strip()):
            return Literal(str(int(str(s).strip())), XSD + "integer")
        raise ValueError(f"{value!r} is not an integer")
    if dt in ("decimal", "double"):
        try:
            d = Decimal(str(s).strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
        if not d.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        text = format(d, "f")
        return Literal(text if "." in text else text + ".0", XSD + "decimal")  # canonical form: 350.0
    if dt == "date":
        if isinstance(s, _dt.datetime):
            return Literal(s.date().isoformat(), XSD + "date")
        if isinstance(s, _dt.date):
            return Literal(s.isoformat(), XSD + "date")
        try:
            return Literal(_dt.date.fromisoformat(str(s).strip()).isoformat(), XSD + "date")
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    return Literal(str(s).strip())


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_") or "col"


class TableHandler(RecordSource):
    """Asset registers and point lists (CSV, TSV, XLSX)."""

    name = "table"
    extensions = tuple(e.lstrip(".") for e in TEXT_EXTENSIONS + XLSX_EXTENSIONS)

    def sniff(self, path: Path, head: bytes) -> float:
        return sniff_table(Path(path), head)

    def read(self, path: Path, **options: Any) -> Iterator[Union[Record, Reject]]:
        """Rows of the file. Options: ``encoding``, ``delimiter`` (text), ``sheet`` (XLSX), ``header_row``."""
        return read_table(Path(path), **options)

    @staticmethod
    def read_options(mapping: dict[str, Any] | None) -> dict[str, Any]:
        """Reader options a mapping carries: its ``read:`` section (what the ingest pipeline passes
        to ``read``), or, for older files, the same keys in ``source:``.

        >>> TableHandler.read_options({"read": {"encoding": "latin-1"}, "source": {"file": "x.csv"}})
        {'encoding': 'latin-1'}
        """
        keys = ("encoding", "delimiter", "sheet", "header_row", "on_truncated")
        out: dict[str, Any] = {}
        for section in ("source", "read"):
            sec = (mapping or {}).get(section) or {}
            out.update({k: sec[k] for k in keys if sec.get(k) is not None})
        return out

    # ------------------------------------------------------------------ propose
    def propose(self, records: list[Record], ctx: MapContext) -> dict[str, Any]:
        rows = [r for r in records if isinstance(r, Record)][:PROFILE_ROWS]
        if not rows:
            raise InputError("EMPTY_TABLE", f"{ctx.source_name}: no data rows to profile", hint="the table needs a header row and at least one data row")
        headers = list(rows[0].fields)
        prof: dict[str, dict[str, Any]] = {}
        for h in headers:
            vals = [r.fields.get(h) for r in rows if r.fields.get(h) is not None]
            strs = [str(v) for v in vals]
            prof[h] = {
                "values": vals,
                "filled": len(vals) / len(rows),
                "unique": len(set(strs)) / len(strs) if strs else 0.0,
                "dtype": _dtype(vals),
                "words": set(_words_of(h)),
            }
        decisions: dict[str, dict[str, Any]] = {}

        # 1. key column
        def key_score(h: str) -> float:
            p = prof[h]
            if p["dtype"] not in ("string", "integer") or p["filled"] < 0.8 or p["unique"] < 0.8:
                return 0.0
            s = 0.5 + (0.3 if p["words"] & _KEY_WORDS else 0.0) + (0.15 if headers.index(h) == 0 else 0.0)
            # empty or repeated keys cost confidence (those rows will be rejected)
            s -= (1.0 - p["filled"]) + (1.0 - p["unique"])
            return round(min(s, 0.95), 2)

        key = max(headers, key=lambda h: (key_score(h), -headers.index(h)))
        kconf = key_score(key)
        if kconf == 0.0:
            raise InputError(
                "NO_KEY_COLUMN",
                f"{ctx.source_name}: no column has a unique, non-empty value in (nearly) every row",
                hint="add an identifier column, or write the mapping by hand (entity.key) - rows with a duplicate key are rejected",
            )

        # 2. roles of the other columns
        for h in headers:
            if h == key:
                continue
            p = prof[h]
            vals = [str(v) for v in p["values"]]
            n = len(vals) or 1
            room_hits = sum(1 for v in vals if _ROOM_VALUE.match(v)) / n
            equip_hits = sum(1 for v in vals if find_equipment(v)[0] and len(find_equipment(v)[0][0].token) >= len(v) - 1) / n
            unit_hits = sum(1 for v in vals if qudt_unit(v)) / n
            idx = brick_index()
            class_hits = sum(1 for v in vals if brick_class_of(v, idx)) / n
            cands: list[tuple[float, dict[str, Any]]] = []
            if p["words"] & _ROOM_WORDS or room_hits >= 0.6:
                conf = 0.5 + 0.3 * bool(p["words"] & _ROOM_WORDS) + 0.2 * room_hits
                cands.append((conf, {"role": "room", "class": "brick:Room", "relation": "brick:hasLocation", "why": f"header words {sorted(p['words'] & _ROOM_WORDS)}; {room_hits:.0%} of values look like rooms"}))
            if p["words"] & _EQUIP_WORDS or equip_hits >= 0.6:
                conf = 0.45 + 0.3 * bool(p["words"] & _EQUIP_WORDS) + 0.25 * equip_hits
                cands.append((conf, {"role": "equipment", "why": f"{equip_hits:.0%} of values are equipment tags (AHU-1, VAV-2...)"}))
            if p["words"] & _UNIT_WORDS or unit_hits >= 0.8:
                conf = 0.5 + 0.2 * bool(p["words"] & _UNIT_WORDS) + 0.3 * unit_hits
                cands.append((conf, {"role": "unit", "why": f"{unit_hits:.0%} of values are known unit symbols"}))
            if p["words"] & _CLASS_WORDS and class_hits >= 0.6:
                cands.append((0.6 + 0.4 * class_hits, {"role": "class", "why": f"{class_hits:.0%} of values are Brick class names"}))
            if p["dtype"] == "string" and p["unique"] >= 0.9 and p["filled"] >= 0.5:
                words = [w for w in _words_of(h) if w not in _GENERIC]
                if words:
                    c = classify(" ".join(words))
                    if not c.flagged and c.confidence >= 0.5 and not c.unknown:
                        cands.append((0.4 + 0.5 * c.confidence, {
                            "role": "point",
                            "class": "brick:" + c.point_class.rsplit("#", 1)[-1],
                            "relation": "brick:hasPoint",
                            "why": f"header {h!r} names a point: {c.why}",
                        }))
            if p["words"] & _DESC_WORDS and p["dtype"] == "string" and not cands:
                cands.append((0.6, {"role": "property", "property": "rdfs:comment", "datatype": "xsd:string", "why": "header names a description"}))
            elif p["words"] & _LABEL_WORDS and p["dtype"] == "string" and not cands:
                cands.append((0.6, {"role": "label", "why": "header names a name / label"}))
            if not cands:
                dt = p["dtype"]
                cands.append((0.5 if p["values"] else 0.2, {
                    "role": "property",
                    "property": ctx.naming.mint(ctx.project, "property", _slug(h)),
                    "datatype": "xsd:" + dt,
                    "why": f"no Brick role recognised; values look like {dt}",
                }))
            conf, d = max(cands, key=lambda c: c[0])
            decisions[h] = {**d, "confidence": round(min(conf, 0.99), 2)}

        # 3. what a row is
        point_cols = [h for h, d in decisions.items() if d["role"] == "point"]
        key_vals = [str(v) for v in prof[key]["values"]]
        entity: dict[str, Any] = {"key": key, "key_confidence": round(kconf, 2)}
        label_col = next((h for h, d in decisions.items() if d["role"] == "label"), key)
        entity["label"] = label_col
        equip_class, equip_conf, equip_why = _equipment_class_of(key, key_vals)
        class_col = next((h for h, d in decisions.items() if d["role"] == "class"), None)
        decided = False
        if class_col is not None:
            idx = brick_index()
            resolved = [c for c in (brick_class_of(str(v), idx) for v in prof[class_col]["values"]) if c]
            kinds = Counter(
                "point" if idx.is_a(c, BRICK + "Point") else "equipment" if idx.is_a(c, BRICK + "Equipment") else "location" if idx.is_a(c, BRICK + "Location") else "other"
                for c in resolved
            )
            kind_, n_ = kinds.most_common(1)[0] if kinds else ("other", 0)
            if kind_ != "other":
                share = n_ / len(prof[class_col]["values"])
                entity.update(kind=kind_, **{"class": {"column": class_col}}, class_confidence=round(0.5 + 0.45 * share, 2),
                              why=f"column {class_col!r} names Brick classes; {share:.0%} of them are {kind_} classes")
                decided = True
        if decided:
            pass
        elif point_cols:
            entity.update(kind="equipment", **{"class": {"value": equip_class}}, class_confidence=equip_conf,
                          why=f"columns {point_cols} hold point names, so a row is a piece of equipment; {equip_why}")
        else:
            # which column names the point: the key, or another free-text column that classifies better
            name_cands = [key] + [
                h for h, d in decisions.items()
                if d["role"] in ("property", "label") and prof[h]["dtype"] == "string" and prof[h]["unique"] >= 0.5
            ]
            rates: dict[str, tuple[float, list[Classification]]] = {}
            for h in name_cands:
                if prof[h]["dtype"] != "string":
                    continue
                cls = [classify(str(v)) for v in prof[h]["values"][:200]]
                rates[h] = (sum(1 for c in cls if not c.flagged) / (len(cls) or 1), cls)
            if key in rates and rates[key][0] >= 0.5:
                src, (point_rate, cls) = key, rates[key]  # the key names the points
            else:
                src, (point_rate, cls) = max(rates.items(), key=lambda kv: kv[1][0]) if rates else (key, (0.0, []))
            if equip_conf >= 0.6 and point_rate < 0.5:
                entity.update(kind="equipment", **{"class": {"value": equip_class}}, class_confidence=equip_conf, why=equip_why)
            else:
                if src != key:
                    entity["label"] = src
                    decisions[src] = {"role": "label", "confidence": round(point_rate, 2), "why": "the point names (classified per row)"}
                entity.update(kind="point", **{"class": {"classify": src}}, class_confidence=round(sum(c.confidence for c in cls) / (len(cls) or 1), 2),
                              why=f"{point_rate:.0%} of the values of {src!r} classify as Brick points (per-row classifier)")
        proposal = {
            "version": 1,
            "handler": self.name,
            "source": {"file": ctx.source_name},
            "entity": entity,
            "columns": decisions,
        }
        if "classify" in (entity.get("class") or {}):
            rep = self.review(records, proposal)
            proposal["review"] = {
                "why": "what the classifier guessed, one line per name pattern, largest first; check one example of each "
                "and put fixes under entity.class.corrections (a fix applies to the whole pattern). Ignored when mapping.",
                "names": rep["total"],
                "flagged": rep["flagged"],
                "patterns": [{k: p[k] for k in ("class", "names", "flagged", "lowest_confidence", "examples")} for p in rep["patterns"][:REVIEW_PATTERNS]],
            }
        return proposal

    # ------------------------------------------------------------------ map
    def map(self, records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]:
        m = _check_mapping(mapping)
        ent = m["entity"]
        kind, key_col, label_col, cls_spec = ent["kind"], ent["key"], ent.get("label") or ent["key"], ent.get("class") or {}
        columns: dict[str, dict[str, Any]] = m.get("columns") or {}
        src = IRI(ctx.source_iri)
        idx = brick_index()
        has_equip_col = any(d.get("role") == "equipment" for d in columns.values())
        has_room_col = any(d.get("role") == "room" for d in columns.values())
        unit_col = next((c for c, d in columns.items() if d.get("role") == "unit"), None)
        seen_keys: dict[str, str] = {}
        made: set[str] = set()  # side entities already emitted (equipment, rooms)
        fixed_class = IRI(expand_curie(cls_spec["value"])) if "value" in cls_spec else None
        corrections = _corrections(cls_spec)
        method = str(cls_spec.get("classifier") or "learned")

        def side_entity(kind_: str, key: str, klass: str, origin: str) -> Iterator[Triple]:
            iri = ctx.mint(kind_, key)
            if iri in made:
                return
            made.add(iri)
            yield (iri, A, IRI(klass))
            yield (iri, LABEL, Literal(key))
            yield (iri, SOURCE, src)
            yield (iri, ORIGIN, Literal(origin))

        checked = False
        for rec in records:
            if isinstance(rec, Reject):
                yield rec
                continue
            f = rec.fields
            if not checked:  # an edited mapping naming a column the file does not have is a mistake
                checked = True
                named = {key_col, label_col, *columns, *(v for k2, v in cls_spec.items() if k2 in ("column", "classify"))}
                missing = sorted(c for c in named if c not in f)
                if missing:
                    raise InputError(
                        "BAD_MAPPING",
                        f"the mapping names columns that {rec.origin.file} does not have: {', '.join(map(repr, missing))}",
                        hint="columns of the file: " + ", ".join(map(repr, f)),
                        where={"file": rec.origin.file},
                    )
            origin = f"{rec.origin.file} row {rec.origin.row}" if rec.origin.row is not None else rec.origin.describe()
            key = f.get(key_col)
            if key is None or str(key).strip() == "":
                yield Reject(origin=rec.origin, code="NO_KEY", reason=f"column {key_col!r} is empty", hint="every row needs a value in the key column")
                continue
            key = str(key).strip()
            if key in seen_keys:
                yield Reject(origin=rec.origin, code="DUPLICATE_KEY", reason=f"key {key!r} already used by {seen_keys[key]}", hint="keys must be unique; fix the duplicate or choose another key column")
                continue
            out: list[Triple] = []
            subj = ctx.mint(kind, key)
            try:
                # class
                cl: Classification | None = None
                if fixed_class is not None:
                    klass = fixed_class
                elif "column" in cls_spec:
                    v = f.get(cls_spec["column"])
                    k2 = brick_class_of(str(v), idx) if v is not None else None
                    if not k2:
                        raise ValueError(f"column {cls_spec['column']!r}: {v!r} is not a Brick class")
                    klass = IRI(k2)
                elif "classify" in cls_spec:
                    text = f.get(cls_spec["classify"])
                    text = str(text) if text is not None else key
                    if kind == "point":
                        cl = corrections.apply(classify_point(text, unit=qudt_unit(f.get(unit_col)) if unit_col else None, method=method))
                        klass = IRI(cl.point_class)
                    else:
                        refs, _ = find_equipment(text)
                        klass = IRI(refs[0].brick_class) if refs and refs[0].brick_class else IRI(BRICK + "Equipment")
                else:
                    klass = IRI(BRICK + {"point": "Point", "equipment": "Equipment", "location": "Location"}[kind])
                out += [(subj, A, klass), (subj, LABEL, Literal(str(f.get(label_col) or key))), (subj, SOURCE, src), (subj, ORIGIN, Literal(origin))]
                if cl is not None:
                    out.append((subj, CONFIDENCE, Literal(f"{cl.confidence:.3f}", XSD + "decimal")))
                    if cl.flagged:
                        out.append((subj, REVIEW, Literal(f"{cl.reason}: {cl.why}")))
                    if not has_equip_col:
                        for e in cl.equipment:
                            eq = ctx.mint("equipment", e.token)
                            out += list(side_entity("equipment", e.token, e.brick_class or BRICK + "Equipment", origin))
                            out.append((subj, IRI(IS_POINT_OF), eq))
                    if cl.room and not has_room_col:
                        out += list(side_entity("room", cl.room, ROOM, origin))
                        out.append((subj, IRI(HAS_LOCATION), ctx.mint("room", cl.room)))
                # other columns
                for col, d in columns.items():
                    role = d.get("role")
                    v = f.get(col)
                    if v is None or role in ("ignore", "key", "label", "class") or col == key_col:
                        continue
                    sv = str(v).strip()
                    if role == "room":
                        out += list(side_entity("room", sv, expand_curie(d.get("class", "brick:Room")), origin))
                        out.append((subj, IRI(expand_curie(d.get("relation", "brick:hasLocation"))), ctx.mint("room", sv)))
                    elif role == "equipment":
                        refs, _ = find_equipment(sv)
                        eclass = expand_curie(d["class"]) if d.get("class") else (refs[0].brick_class if refs and refs[0].brick_class else BRICK + "Equipment")
                        out += list(side_entity("equipment", sv, eclass, origin))
                        rel = d.get("relation") or ("brick:isPointOf" if kind == "point" else "brick:isPartOf")
                        out.append((subj, IRI(expand_curie(rel)), ctx.mint("equipment", sv)))
                    elif role == "point":
                        pt = ctx.mint("point", sv)
                        if d.get("class") == "classify" or not d.get("class"):
                            pklass = classify_point(sv).point_class
                        else:
                            pklass = expand_curie(d["class"])
                        out += [(pt, A, IRI(pklass)), (pt, LABEL, Literal(sv)), (pt, SOURCE, src), (pt, ORIGIN, Literal(f"{origin} column {col}"))]
                        rel = expand_curie(d.get("relation", "brick:hasPoint"))
                        out.append((subj, IRI(rel), pt) if rel != IS_POINT_OF else (pt, IRI(rel), subj))
                    elif role == "unit":
                        u = qudt_unit(sv)
                        out.append((subj, HAS_UNIT, IRI(u)) if u else (subj, UNIT_TEXT, Literal(sv)))
                    elif role == "property":
                        try:
                            lit = literal_of(v, d.get("datatype", "xsd:string"))
                        except ValueError as e:
                            raise ValueError(f"column {col!r}: {e}") from None
                        out.append((subj, IRI(expand_curie(d["property"])), lit))
            except ValueError as e:
                yield Reject(origin=rec.origin, code="BAD_VALUE", reason=str(e), hint="fix the cell, or change the column's datatype / role in the mapping")
                continue
            seen_keys[key] = origin
            yield from out

    # ------------------------------------------------------------------ review
    def review(self, records: Iterable[Record], mapping: dict[str, Any]) -> dict[str, Any]:
        """Classifier results grouped for a person (flagged names, unknown tokens)."""
        m = _check_mapping(mapping)
        spec = m["entity"].get("class") or {}
        if m["entity"]["kind"] != "point" or "classify" not in spec:
            return review_report([])
        col, corrections, method = spec["classify"], _corrections(spec), str(spec.get("classifier") or "learned")
        return review_report(corrections.apply(classify_point(str(r.fields.get(col)), method=method)) for r in records if isinstance(r, Record) and r.fields.get(col) is not None)


def _corrections(cls_spec: dict[str, Any]) -> Corrections:
    """A person's corrections of the classifier (``entity.class.corrections: {point name: class}``)."""
    return Corrections(cls_spec.get("corrections") or {}, source="mapping entity.class.corrections")


def _equipment_class_of(header: str, values: list[str]) -> tuple[str, float, str]:
    """Equipment class of a key column from its header ("VAV name") or value prefixes ("tstat2")."""
    idx = brick_index()
    for w in _words_of(header):
        if w in EQUIPMENT_ABBREVIATIONS and BRICK + EQUIPMENT_ABBREVIATIONS[w] in idx.classes:
            return "brick:" + EQUIPMENT_ABBREVIATIONS[w], 0.8, f"header word {w!r} = {EQUIPMENT_ABBREVIATIONS[w]}"
    prefixes = Counter(re.match(r"[A-Za-z]*", v).group(0).lower() for v in values if v)  # type: ignore[union-attr]
    if prefixes:
        p, n = prefixes.most_common(1)[0]
        share = n / len(values)
        if p in EQUIPMENT_ABBREVIATIONS and BRICK + EQUIPMENT_ABBREVIATIONS[p] in idx.classes:
            return "brick:" + EQUIPMENT_ABBREVIATIONS[p], round(0.5 + 0.4 * share, 2), f"{share:.0%} of the keys start with {p!r} = {EQUIPMENT_ABBREVIATIONS[p]}"
    return "brick:Equipment", 0.3, "equipment type not recognised: brick:Equipment (edit entity.class)"


def _check_mapping(mapping: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(mapping, dict) or not isinstance(mapping.get("entity"), dict):
        raise InputError("BAD_MAPPING", "the mapping needs an 'entity' section", hint="get the proposal (kg-twin ingest FILE --project P --dry-run > mapping.yml) and edit it")
    ent = mapping["entity"]
    if ent.get("kind") not in KINDS:
        raise InputError("BAD_MAPPING", f"entity.kind must be one of {', '.join(KINDS)}, not {ent.get('kind')!r}")
    if not ent.get("key"):
        raise InputError("BAD_MAPPING", "entity.key (the key column) is missing")
    cls = ent.get("class") or {}
    if cls and not isinstance(cls, dict) or (isinstance(cls, dict) and len(set(cls) & {"value", "column", "classify"}) > 1):
        raise InputError("BAD_MAPPING", "entity.class must be one of {value: CLASS}, {column: COLUMN}, {classify: COLUMN}")
    if isinstance(cls, dict) and "corrections" in cls:
        fixes = cls["corrections"]
        if "classify" not in cls or not isinstance(fixes, (dict, type(None))):
            raise InputError(
                "BAD_MAPPING",
                "entity.class.corrections must sit beside 'classify' and map point names to Brick classes",
                hint="e.g. class: {classify: Point Name, corrections: {'AHU-1 DSP': brick:Supply_Air_Static_Pressure_Sensor}}",
            )
    if isinstance(cls, dict) and str(cls.get("classifier") or "learned") not in CLASSIFIERS:
        raise InputError("BAD_MAPPING", f"entity.class.classifier must be one of {', '.join(CLASSIFIERS)}, not {cls.get('classifier')!r}",
                         hint="classifier: learned (the default) or classifier: rules")
    for col, d in (mapping.get("columns") or {}).items():
        if not isinstance(d, dict) or d.get("role") not in ROLES:
            raise InputError("BAD_MAPPING", f"column {col!r}: role must be one of {', '.join(ROLES)}", where={"column": col})
        if d["role"] == "property" and not d.get("property"):
            raise InputError("BAD_MAPPING", f"column {col!r}: a property column needs 'property' (an IRI or CURIE)", where={"column": col})
        for k in ("class", "relation", "property"):
            if d.get(k) and d[k] != "classify":
                expand_curie(d[k])
    return mapping


TABLE = register(TableHandler())
