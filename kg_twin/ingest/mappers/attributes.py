"""Attribute columns of GIS features -> typed properties, table driven.

:func:`profile_columns` looks at every value of every attribute column and proposes, per column,
a property, an XSD datatype, a unit and a confidence. Two tables drive it:

* :data:`KNOWN`: well-known attribute names (BD TOPO, CityJSON / CityGML, OSM-like) mapped to
  twin properties with units (``HAUTEUR`` -> ``kgt:height`` in ``unit:M``, ``NB_ETAGES`` ->
  ``kgt:storeysAboveGround`` ...). Matching is case-insensitive on the column name.
* generic rules for every other column: the property is ``{base}id/{project}/prop/{layer}/{column}``,
  the datatype follows the values: source-typed numbers -> ``xsd:integer`` / ``xsd:decimal``,
  dates -> ``xsd:date``, ``YYYY-MM-DD[ T]hh:mm:ss`` -> ``xsd:dateTime``, Oui/Non, yes/no,
  true/false -> ``xsd:boolean``, anything else -> ``xsd:string``. Text made of digits stays a
  string (INSEE / postal codes keep their leading zeros).

The confidence of a column is the share of its non-empty values that fit the proposed datatype
(1.0 for source-typed columns). Empty columns are proposed with ``property: null`` (skipped).

>>> lit = convert("2011-04-13 13:09:40", XSD_DATETIME)
>>> lit.value
'2011-04-13T13:09:40'
>>> convert("Oui", XSD_BOOLEAN).value
'true'
>>> convert(12.5, XSD_DECIMAL).value
'12.5'
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from kg_twin.errors import InputError
from kg_twin.ingest.base import MapContext
from kg_twin.rdf import (
    IRI,
    XSD_BOOLEAN,
    XSD_DATE,
    XSD_DATETIME,
    XSD_DECIMAL,
    XSD_INTEGER,
    XSD_STRING,
    Literal,
)
from kg_twin.terms import PREFIXES, _key

# column name (lower case) -> (property CURIE or None for the generic property, datatype or None, unit CURIE or None)
KNOWN: dict[str, tuple[str | None, str | None, str | None]] = {
    # heights / altitudes (metres)
    "hauteur": ("kgt:height", XSD_DECIMAL, "unit:M"),
    "height": ("kgt:height", XSD_DECIMAL, "unit:M"),
    "measuredheight": ("kgt:height", XSD_DECIMAL, "unit:M"),
    "building:height": ("kgt:height", XSD_DECIMAL, "unit:M"),
    "z_min_sol": (None, XSD_DECIMAL, "unit:M"),
    "z_max_sol": (None, XSD_DECIMAL, "unit:M"),
    "z_min_toit": (None, XSD_DECIMAL, "unit:M"),
    "z_max_toit": (None, XSD_DECIMAL, "unit:M"),
    "terrainheight": (None, XSD_DECIMAL, "unit:M"),
    "prec_plani": (None, XSD_DECIMAL, "unit:M"),
    "prec_alti": (None, XSD_DECIMAL, "unit:M"),
    "surface_ha": (None, None, "unit:HA"),
    # counts
    "nb_etages": ("kgt:storeysAboveGround", XSD_INTEGER, None),
    "storeysaboveground": ("kgt:storeysAboveGround", XSD_INTEGER, None),
    "building:levels": ("kgt:storeysAboveGround", XSD_INTEGER, None),
    "nb_logts": ("kgt:dwellingCount", XSD_INTEGER, None),
    "population": ("kgt:population", XSD_INTEGER, None),
    # usage / function
    "usage1": ("kgt:usage", XSD_STRING, None),
    "usage_1": ("kgt:usage", XSD_STRING, None),
    "usage": ("kgt:usage", XSD_STRING, None),
    "function": ("kgt:usage", XSD_STRING, None),
    "usage2": ("kgt:secondaryUsage", XSD_STRING, None),
    "usage_2": ("kgt:secondaryUsage", XSD_STRING, None),
    # dates
    "yearofconstruction": ("kgt:yearOfConstruction", XSD_INTEGER, None),
    "date_creat": ("dcterms:created", XSD_DATETIME, None),
    "date_maj": ("dcterms:modified", XSD_DATETIME, None),
    # codes
    "code_post": ("kgt:postalCode", XSD_STRING, None),
    "postalcode": ("kgt:postalCode", XSD_STRING, None),
    "insee_com": ("kgt:inseeCode", XSD_STRING, None),
}

# columns that name the feature (first unique-enough one wins) and that identify it
LABEL_COLUMNS = ("nom", "name", "toponyme", "libelle", "label", "naam", "nom_commune")
KEY_COLUMNS = ("id", "cleabs", "identifier", "gml_id", "fid", "objectid", "osm_id", "uuid", "identificatie")

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_BOOL = {"oui": True, "non": False, "yes": True, "no": False, "true": True, "false": False, "vrai": True, "faux": False}


def expand(curie: str) -> str:
    """``kgt:height`` -> full IRI (full IRIs pass through).

    >>> expand("unit:M")
    'http://qudt.org/vocab/unit/M'
    """
    if "://" in curie or curie.startswith("urn:"):
        return curie
    prefix, sep, local = curie.partition(":")
    if sep and prefix in PREFIXES:
        return PREFIXES[prefix] + local
    raise InputError("BAD_MAPPING", f"unknown prefix in {curie!r} in the mapping",
                     hint=f"write a full IRI or use a known prefix: {', '.join(sorted(PREFIXES))}")


def prop_iri(ctx: MapContext, group: str, name: str) -> IRI:
    """Deterministic project property IRI ``{base}id/{project}/prop/{group}/{name}``.

    ``group`` is the layer (GIS) or the property set (IFC); ``name`` the column / property name.
    """
    return IRI(f"{ctx.mint('prop', group)}/{_key(name)}")


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _kind(v: Any) -> str:
    """Value kind used by profiling: int, decimal, date, datetime, bool, digits, text."""
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, (float, Decimal)):
        return "decimal"
    if isinstance(v, dt.datetime):
        return "datetime"
    if isinstance(v, dt.date):
        return "date"
    s = str(v).strip()
    if _DATE_RE.match(s):
        return "date"
    if _DATETIME_RE.match(s):
        return "datetime"
    if s.lower() in _BOOL:
        return "bool"
    if s.isdigit():
        return "digits"
    return "text"


_DATATYPE_OF = {
    "int": XSD_INTEGER,
    "decimal": XSD_DECIMAL,
    "date": XSD_DATE,
    "datetime": XSD_DATETIME,
    "bool": XSD_BOOLEAN,
    "digits": XSD_STRING,
    "text": XSD_STRING,
}


def convert(v: Any, datatype: str) -> Literal | None:
    """A typed literal for one value, None for an empty value; ValueError when it does not fit."""
    if _empty(v):
        return None
    if datatype == XSD_STRING:
        return Literal(str(v).strip() if isinstance(v, str) else str(v))
    if datatype == XSD_INTEGER:
        if isinstance(v, bool):
            raise ValueError(f"{v!r} is not an integer")
        if isinstance(v, float):
            if not v.is_integer():
                raise ValueError(f"{v!r} is not an integer")
            return Literal(str(int(v)), XSD_INTEGER)
        return Literal(str(int(str(v).strip())), XSD_INTEGER)
    if datatype == XSD_DECIMAL:
        if isinstance(v, bool):
            raise ValueError(f"{v!r} is not a number")
        try:
            d = Decimal(repr(v) if isinstance(v, float) else str(v).strip().replace(",", "."))
        except InvalidOperation as e:
            raise ValueError(f"{v!r} is not a decimal number") from e
        if not d.is_finite():
            raise ValueError(f"{v!r} is not a finite number")
        text = format(d, "f")
        if "." not in text:
            text += ".0"
        return Literal(text, XSD_DECIMAL)
    if datatype == XSD_DATE:
        if isinstance(v, dt.datetime):
            return Literal(v.date().isoformat(), XSD_DATE)
        if isinstance(v, dt.date):
            return Literal(v.isoformat(), XSD_DATE)
        return Literal(dt.date.fromisoformat(str(v).strip()).isoformat(), XSD_DATE)
    if datatype == XSD_DATETIME:
        if isinstance(v, dt.datetime):
            return Literal(v.isoformat(), XSD_DATETIME)
        if isinstance(v, dt.date):
            return Literal(dt.datetime.combine(v, dt.time()).isoformat(), XSD_DATETIME)
        s = str(v).strip()
        if not _DATETIME_RE.match(s):
            if _DATE_RE.match(s):
                return Literal(f"{s}T00:00:00", XSD_DATETIME)
            raise ValueError(f"{v!r} is not a date-time (YYYY-MM-DD hh:mm:ss)")
        return Literal(dt.datetime.fromisoformat(s.replace("Z", "+00:00")).isoformat(), XSD_DATETIME)
    if datatype == XSD_BOOLEAN:
        if isinstance(v, bool):
            return Literal("true" if v else "false", XSD_BOOLEAN)
        b = _BOOL.get(str(v).strip().lower())
        if b is None:
            raise ValueError(f"{v!r} is not a boolean (Oui/Non, yes/no, true/false)")
        return Literal("true" if b else "false", XSD_BOOLEAN)
    raise ValueError(f"unsupported datatype {datatype}")


def _curie(iri: str) -> str:
    for p, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{p}:{iri[len(ns):]}"
    return str(iri)


def profile_columns(rows: Iterable[dict[str, Any]], layer: str, ctx: MapContext) -> list[dict[str, Any]]:
    """One proposal per attribute column (see module doc)."""
    order: list[str] = []
    kinds: dict[str, dict[str, int]] = {}
    examples: dict[str, list[Any]] = {}
    for row in rows:
        for col, v in row.items():
            if col not in kinds:
                kinds[col] = {}
                examples[col] = []
                order.append(col)
            if _empty(v):
                continue
            k = _kind(v)
            kinds[col][k] = kinds[col].get(k, 0) + 1
            if len(examples[col]) < 3 and v not in examples[col]:
                examples[col].append(v if isinstance(v, (int, float, bool, str)) else str(v))
    out: list[dict[str, Any]] = []
    for col in order:
        counts = kinds[col]
        filled = sum(counts.values())
        known = KNOWN.get(col.lower())
        entry: dict[str, Any] = {"column": col, "non_empty": filled, "examples": examples[col]}
        if filled == 0:
            entry.update(property=None, datatype=None, unit=None, confidence=1.0, reason="empty in every feature: skipped")
            out.append(entry)
            continue
        # datatype from the values
        if set(counts) <= {"int"}:
            dtype = XSD_INTEGER
        elif set(counts) <= {"int", "decimal"}:
            dtype = XSD_DECIMAL
        else:
            best = max(counts, key=lambda k: (counts[k], k))
            dtype = _DATATYPE_OF[best]
            if best in ("date", "datetime") and set(counts) <= {"date", "datetime"}:
                dtype = XSD_DATETIME if "datetime" in counts else XSD_DATE
        fit = _fit(counts, dtype) / filled
        reason = f"values: {', '.join(f'{k} {n}' for k, n in sorted(counts.items()))}"
        if known:
            prop, kdt, unit = known
            if kdt and kdt != dtype:
                kfit = _fit(counts, kdt) / filled
                if kfit >= fit or kfit == 1.0:
                    dtype, fit = kdt, kfit
            entry.update(
                property=prop or _curie(prop_iri(ctx, layer, col)),
                datatype=_curie(dtype),
                unit=unit,
                confidence=round(0.95 * fit, 3) if prop else round(fit, 3),
                reason=f"known attribute {col}; {reason}",
            )
        else:
            entry.update(
                property=_curie(prop_iri(ctx, layer, col)),
                datatype=_curie(dtype),
                unit=None,
                confidence=round(fit * (0.8 if "digits" in counts and dtype == XSD_STRING else 1.0), 3),
                reason=("digits kept as text (codes keep leading zeros); " if "digits" in counts else "") + reason,
            )
        out.append(entry)
    return out


def _fit(counts: dict[str, int], dtype: str) -> int:
    ok = {
        XSD_INTEGER: {"int"},
        XSD_DECIMAL: {"int", "decimal"},
        XSD_DATE: {"date"},
        XSD_DATETIME: {"datetime", "date"},
        XSD_BOOLEAN: {"bool"},
        XSD_STRING: set(_DATATYPE_OF),
    }[dtype]
    return sum(n for k, n in counts.items() if k in ok)


def pick_key(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The identifier column: a known key name whose values are all present and unique."""
    n = len(rows)
    cols = list(rows[0]) if rows else []
    for cand in KEY_COLUMNS:
        for col in cols:
            if col.lower() == cand:
                vals = [r.get(col) for r in rows]
                if all(not _empty(v) for v in vals) and len({str(v) for v in vals}) == n:
                    return {"column": col, "confidence": 1.0, "reason": f"{col} is present and unique in all {n} features"}
    return {"column": None, "confidence": 0.7, "reason": "no unique identifier column: features are keyed by their position"}


def pick_label(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The naming column: a known name column, filled and distinct in most features."""
    n = len(rows)
    cols = list(rows[0]) if rows else []
    for cand in LABEL_COLUMNS:
        for col in cols:
            if col.lower() == cand:
                vals = [str(r.get(col)).strip() for r in rows if not _empty(r.get(col))]
                if not vals:
                    continue
                distinct = len(set(vals)) / n
                if n == 1 or distinct >= 0.5:
                    return {"column": col, "confidence": round(min(1.0, 0.5 + distinct / 2), 3),
                            "reason": f"{col}: {len(vals)} of {n} named, {len(set(vals))} distinct"}
    return {"column": None, "confidence": 0.8, "reason": "no distinct name column: label is '<class> <key>'"}
