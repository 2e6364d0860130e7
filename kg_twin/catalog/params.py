"""Query parameters named the grlc / BASIL way, and checking the values people send.

A variable whose name starts with ``_`` is a parameter; ``__`` makes it optional::

    ?_zone_iri              required IRI                      -> zone
    ?__since_xsd_date       optional xsd:date literal        -> since
    ?_name                  required plain string literal    -> name
    ?_n_xsd_integer         required xsd:integer literal     -> n
    ?_n_integer             same (XSD type name without prefix)
    ?_label_en              string literal tagged @en        -> label
    ?_area_geo_wktLiteral   datatype from a prefix (declared in the query, or a well-known one)
    ?_x_number              a number (xsd:integer, xsd:decimal or xsd:double from its form)
    ?_x_literal / _string   plain string literal

The parameter name (the part after the underscores, up to the next ``_``) is what
callers use: ``?zone=...&since=...``. Values are checked and typed here, then
*bound* to the variable (never pasted into the query text).

>>> p = Parameter.from_variable("__since_xsd_date", {})
>>> (p.name, p.required, p.datatype)
('since', False, 'http://www.w3.org/2001/XMLSchema#date')
>>> p.to_term("2024-02-29")
Literal(value='2024-02-29', datatype='http://www.w3.org/2001/XMLSchema#date', lang=None)
>>> p.to_term("2023-02-29")
Traceback (most recent call last):
...
kg_twin.errors.InputError: [BAD_PARAMETER] parameter 'since': '2023-02-29' is not a valid xsd:date
  hint: write a date as YYYY-MM-DD, e.g. 2024-05-31
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from kg_twin.errors import InputError
from kg_twin.rdf import IRI, Literal
from kg_twin.terms import GEO, PREFIXES, XSD

VAR_RE = re.compile(r"^(?P<opt>_{1,2})(?P<name>[A-Za-z0-9]+)(?:_(?P<type>[A-Za-z0-9]+))?(?:_(?P<local>[A-Za-z0-9][A-Za-z0-9-]*))?$")
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
RESERVED = {"format", "page", "timeout"}
MAX_VALUE_CHARS = 100_000  # a WKT polygon may be long; nothing legitimate is longer

XSD_TYPES = {
    "string", "boolean", "decimal", "integer", "double", "float", "date", "time", "dateTime", "dateTimeStamp",
    "gYear", "gYearMonth", "gMonth", "gMonthDay", "gDay", "duration", "dayTimeDuration", "yearMonthDuration",
    "long", "int", "short", "byte", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger",
    "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte", "anyURI", "token", "normalizedString", "language",
    "hexBinary", "base64Binary",
}
_LOWER_XSD = {t.lower(): t for t in XSD_TYPES}
_INTEGER_TYPES = {
    "integer": (None, None), "long": (-(2**63), 2**63 - 1), "int": (-(2**31), 2**31 - 1), "short": (-(2**15), 2**15 - 1),
    "byte": (-128, 127), "nonNegativeInteger": (0, None), "positiveInteger": (1, None), "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1), "unsignedLong": (0, 2**64 - 1), "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1), "unsignedByte": (0, 255),
}
_INT_RE = re.compile(r"^[+-]?\d+$")
_DEC_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DBL_RE = re.compile(r"^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN)$")
_TZ = r"(Z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)?"
_DATE_RE = re.compile(r"^(-?\d{4,})-(\d{2})-(\d{2})" + _TZ + "$")
_DT_RE = re.compile(r"^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?" + _TZ + "$")
_TIME_RE = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(\.\d+)?" + _TZ + "$")
_GYEAR_RE = re.compile(r"^-?\d{4,}" + _TZ + "$")
_GYM_RE = re.compile(r"^-?\d{4,}-(0[1-9]|1[0-2])" + _TZ + "$")
_DUR_RE = re.compile(r"^-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_LANG_RE = re.compile(r"^[a-z]{2}$")  # ISO 639-1, as grlc
_LANGTAG_RE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_IRI_FORBIDDEN = set('<>"{}|^`\\ ') | {chr(i) for i in range(0x21)} | {"\x7f"}
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_HEX_RE = re.compile(r"^([0-9A-Fa-f]{2})*$")
_B64_RE = re.compile(r"^[A-Za-z0-9+/\s]*={0,2}$")

HINTS = {
    "date": "write a date as YYYY-MM-DD, e.g. 2024-05-31",
    "dateTime": "write a date-time as YYYY-MM-DDThh:mm:ss with an optional zone, e.g. 2024-05-31T08:00:00Z",
    "dateTimeStamp": "write a date-time with a time zone, e.g. 2024-05-31T08:00:00Z",
    "time": "write a time as hh:mm:ss, e.g. 08:30:00",
    "boolean": "use true, false, 1 or 0",
    "integer": "write a whole number, e.g. 42",
    "decimal": "write a decimal number with a dot, e.g. 12.5",
    "double": "write a number, e.g. 12.5 or 1.2E3",
    "float": "write a number, e.g. 12.5 or 1.2E3",
    "gYear": "write a year, e.g. 2024",
    "gYearMonth": "write a year and month, e.g. 2024-05",
    "duration": "write an ISO 8601 duration, e.g. P1D or PT2H30M",
    "dayTimeDuration": "write a duration in days/hours/minutes/seconds, e.g. P1D or PT2H",
    "yearMonthDuration": "write a duration in years/months, e.g. P1Y2M",
    "wktLiteral": "write a WKT geometry in longitude latitude order (CRS84), e.g. POINT(2.35 48.85), "
    "optionally preceded by a CRS IRI such as <http://www.opengis.net/def/crs/EPSG/0/2154>",
}


def _bad(p: "Parameter", value: str, what: str, hint: str | None = None) -> InputError:
    shown = value if len(value) <= 80 else value[:77] + "..."
    return InputError(
        "BAD_PARAMETER",
        f"parameter {p.name!r}: {shown!r} is not a valid {what}",
        hint=hint,
        errors=[{"parameter": p.name, "value": shown, "expected": what}],
    )


def check_iri(value: str) -> str | None:
    """Why ``value`` is not an absolute IRI usable in SPARQL (None: it is fine)."""
    if not value:
        return "it is empty"
    bad = sorted({c for c in value if c in _IRI_FORBIDDEN})
    if bad:
        return "it contains " + ", ".join(repr(c) for c in bad)
    if not _SCHEME_RE.match(value):
        return "it is not absolute (no scheme such as https:)"
    try:
        parts = urlsplit(value)
    except ValueError as e:
        return str(e)
    if parts.scheme.lower() in ("http", "https") and not parts.netloc:
        return "an http(s) IRI needs a host"
    return None


def _valid_date(y: str, m: str, d: str) -> bool:
    try:
        yy = int(y)
        if yy == 0 or abs(yy) > 9999:
            return 1 <= int(m) <= 12 and 1 <= int(d) <= 31  # outside Python's range: check fields only
        date(yy, int(m), int(d))
        return True
    except ValueError:
        return False


def check_literal(value: str, xsd_local: str) -> bool:
    """Is ``value`` in the lexical space of ``xsd:{xsd_local}``? (types not listed: any string)"""
    t = xsd_local
    if t in _INTEGER_TYPES:
        if not _INT_RE.match(value):
            return False
        lo, hi = _INTEGER_TYPES[t]
        n = int(value)
        return (lo is None or n >= lo) and (hi is None or n <= hi)
    if t == "decimal":
        return bool(_DEC_RE.match(value))
    if t in ("double", "float"):
        return bool(_DBL_RE.match(value))
    if t == "boolean":
        return value in ("true", "false", "1", "0")
    if t == "date":
        m = _DATE_RE.match(value)
        return bool(m) and _valid_date(m.group(1), m.group(2), m.group(3))
    if t in ("dateTime", "dateTimeStamp"):
        m = _DT_RE.match(value)
        if not m or not _valid_date(m.group(1), m.group(2), m.group(3)):
            return False
        if t == "dateTimeStamp" and not m.group(8):
            return False
        hh, mm, ss = int(m.group(4)), int(m.group(5)), int(m.group(6))
        if hh == 24:
            return mm == 0 and ss == 0 and not (m.group(7) or "").strip(".0")
        return hh < 24 and mm < 60 and ss < 60
    if t == "time":
        m = _TIME_RE.match(value)
        return bool(m) and int(m.group(1)) < 24 and int(m.group(2)) < 60 and int(m.group(3)) < 60
    if t == "gYear":
        return bool(_GYEAR_RE.match(value))
    if t == "gYearMonth":
        return bool(_GYM_RE.match(value))
    if t == "duration":
        return bool(_DUR_RE.match(value))
    if t == "dayTimeDuration":
        return bool(_DUR_RE.match(value)) and "Y" not in value and not re.search(r"P[^T]*M", value)
    if t == "yearMonthDuration":
        return bool(_DUR_RE.match(value)) and "T" not in value and "D" not in value
    if t == "anyURI":
        return not any(c in _IRI_FORBIDDEN for c in value)
    if t == "language":
        return bool(_LANGTAG_RE.match(value))
    if t == "hexBinary":
        return bool(_HEX_RE.match(value))
    if t == "base64Binary":
        return bool(_B64_RE.match(value))
    return True


def check_wkt(value: str) -> str | None:
    """Why a WKT literal is unusable (None: fine). Uses the same parser as the geof: functions."""
    try:
        from kg_twin.geo.functions import parse_wkt
    except ImportError as e:  # pragma: no cover - shapely/pyproj are dependencies
        return f"geometry support is not installed ({e})"
    try:
        g = parse_wkt(value)
    except ValueError as e:
        return str(e)
    if g.is_empty:
        return "the geometry is empty"
    return None


@dataclass
class Parameter:
    """One API parameter bound to one query variable."""

    variable: str  # without '?'
    name: str
    required: bool
    kind: str  # iri | literal | number
    datatype: str | None = None  # full IRI (typed literal)
    lang: str | None = None
    default: str | None = None
    enum: list[str] = field(default_factory=list)
    description: str = ""

    @classmethod
    def from_variable(cls, var: str, prefixes: dict[str, str]) -> "Parameter":
        """Parse a BASIL variable name (``_zone_iri``); InputError if it is not a usable parameter name."""
        m = VAR_RE.match(var)
        if not m:
            raise InputError(
                "BAD_PARAMETER_NAME",
                f"?{var} starts with '_' but is not a parameter name: use ?_name, ?__name, ?_name_iri, ?_name_xsd_date ...",
                hint="parameter names are letters and digits (no '_' inside the name); the type follows after one '_'",
            )
        name, typ, local = m.group("name"), m.group("type"), m.group("local")
        required = m.group("opt") == "_"
        if not NAME_RE.match(name):
            raise InputError("BAD_PARAMETER_NAME", f"?{var}: parameter name {name!r} must start with a letter")
        if name in RESERVED:
            raise InputError("BAD_PARAMETER_NAME", f"?{var}: {name!r} is reserved (format, page and timeout are request options)")
        p = cls(var, name, required, "literal")
        if typ is None:
            if local:
                raise InputError("BAD_PARAMETER_NAME", f"?{var}: cannot parse the type")
            p.datatype = XSD + "string"
            return p
        if local is not None:  # prefix_local datatype
            ns = prefixes.get(typ) or PREFIXES.get(typ)
            if ns is None:
                raise InputError("BAD_PARAMETER_NAME", f"?{var}: unknown prefix {typ!r} for the datatype", hint=f"declare PREFIX {typ}: <...> in the query")
            if ns == XSD and local not in XSD_TYPES:
                raise InputError("BAD_PARAMETER_NAME", f"?{var}: xsd:{local} is not an XSD datatype this catalogue knows")
            p.datatype = ns + local
            return p
        if typ == "iri":
            p.kind, p.datatype = "iri", None
        elif typ == "number":
            p.kind, p.datatype = "number", None
        elif typ in ("literal", "string"):
            p.datatype = XSD + "string"
        elif typ in XSD_TYPES or typ.lower() in _LOWER_XSD:
            p.datatype = XSD + _LOWER_XSD[typ.lower()]
        elif _LANG_RE.match(typ):
            p.lang, p.datatype = typ, None
        else:
            raise InputError(
                "BAD_PARAMETER_NAME",
                f"?{var}: unknown parameter type {typ!r}",
                hint="use iri, number, literal, an XSD type (integer, date...), prefix_type (xsd_date, geo_wktLiteral) or a language tag (en)",
            )
        return p

    # ------------------------------------------------------------ descriptions
    @property
    def type_label(self) -> str:
        if self.kind == "iri":
            return "IRI"
        if self.kind == "number":
            return "number"
        if self.lang:
            return f"text (@{self.lang})"
        dt = self.datatype or ""
        for prefix, ns in PREFIXES.items():
            if dt.startswith(ns):
                return f"{prefix}:{dt[len(ns):]}"
        return f"<{dt}>"

    def schema(self) -> dict[str, Any]:
        """OpenAPI schema of the parameter."""
        s: dict[str, Any] = {"type": "string"}
        local = (self.datatype or "")[len(XSD):] if (self.datatype or "").startswith(XSD) else None
        if self.kind == "iri":
            s["format"] = "uri"
        elif self.kind == "number":
            s = {"type": "number"}
        elif local in _INTEGER_TYPES:
            s = {"type": "integer"}
            lo, hi = _INTEGER_TYPES[local]
            if lo is not None and abs(lo) < 2**53:
                s["minimum"] = lo
            if hi is not None and hi < 2**53:
                s["maximum"] = hi
        elif local in ("decimal", "double", "float"):
            s = {"type": "number"}
        elif local == "boolean":
            s = {"type": "boolean"}
        elif local == "date":
            s["format"] = "date"
        elif local in ("dateTime", "dateTimeStamp"):
            s["format"] = "date-time"
        elif local == "time":
            s["format"] = "time"
        elif local == "anyURI":
            s["format"] = "uri"
        elif self.datatype == GEO + "wktLiteral":
            s["format"] = "wkt"
        if self.enum:
            s["enum"] = list(self.enum)
        if self.default is not None:
            s["default"] = _schema_value(s, self.default)
        return s

    def describe(self) -> str:
        if self.description:
            return f"{self.description} ({self.type_label})"
        text = f"{self.type_label} bound to ?{self.variable}"
        if self.datatype == GEO + "wktLiteral" and not self.description:
            h = HINTS["wktLiteral"]
            text += ". " + h[0].upper() + h[1:]
        return text

    # ------------------------------------------------------------ values
    def to_term(self, value: str) -> Any:
        """Check ``value`` and return the RDF term to bind (kg_twin.rdf IRI / Literal); InputError naming the parameter."""
        if not isinstance(value, str):
            raise _bad(self, repr(value), self.type_label)
        if len(value) > MAX_VALUE_CHARS:
            raise InputError("BAD_PARAMETER", f"parameter {self.name!r}: value longer than {MAX_VALUE_CHARS} characters", errors=[{"parameter": self.name}])
        if any(ord(c) < 0x20 and c not in "\t\n\r" for c in value) or "\x00" in value:
            raise _bad(self, value, self.type_label, "control characters are not allowed")
        if self.enum and value not in self.enum:
            raise InputError(
                "BAD_PARAMETER",
                f"parameter {self.name!r}: {value!r} is not one of the allowed values",
                hint="allowed: " + ", ".join(self.enum[:20]),
                errors=[{"parameter": self.name, "value": value[:80], "allowed": self.enum}],
            )
        if self.kind == "iri":
            why = check_iri(value)
            if why:
                raise _bad(self, value, "absolute IRI", f"{why}; write a full IRI such as https://example.org/id/zone/1 (percent-encode spaces and <>\"{{}}|^`\\)")
            return IRI(value)
        if self.kind == "number":
            v = value.strip()
            if _INT_RE.match(v):
                return Literal(v, XSD + "integer")
            if _DEC_RE.match(v):
                return Literal(v, XSD + "decimal")
            if _DBL_RE.match(v) and v not in ("NaN", "INF", "+INF", "-INF"):
                return Literal(v, XSD + "double")
            raise _bad(self, value, "number", "write a number, e.g. 42, 12.5 or 1.2E3")
        if self.lang:
            if "\n" in value or "\r" in value:
                raise _bad(self, value, "single-line text", "newlines are not allowed")
            return Literal(value, None, self.lang)
        dt = self.datatype or XSD + "string"
        if dt.startswith(XSD):
            local = dt[len(XSD):]
            v = value.strip() if local != "string" else value
            if local not in ("string", "normalizedString", "token") and not check_literal(v, local):
                raise _bad(self, value, f"xsd:{local}", HINTS.get(local))
            if local in ("double", "float") and v in ("NaN", "INF", "+INF", "-INF"):
                raise _bad(self, value, f"finite xsd:{local}", HINTS.get(local))
            if local in ("decimal", "double", "float") and not math.isfinite(float(v)):
                raise _bad(self, value, f"finite xsd:{local}", HINTS.get(local))
            if local in ("string", "normalizedString", "token") and ("\n" in value or "\r" in value):
                raise _bad(self, value, "single-line text", "newlines are not allowed")
            return Literal(v, dt if local != "string" else None)
        if dt == GEO + "wktLiteral":
            why = check_wkt(value)
            if why:
                raise _bad(self, value, "WKT geometry", f"{why}; {HINTS['wktLiteral']}")
            from kg_twin.geo.functions import to_crs84_wkt

            return Literal(to_crs84_wkt(value), dt)  # another CRS is reprojected: the twin's data is CRS84
        return Literal(value, dt)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "variable": "?" + self.variable,
            "required": self.required and self.default is None,
            "type": self.type_label,
            "kind": self.kind,
            "schema": self.schema(),
            "description": self.describe(),
        }
        if self.datatype:
            d["datatype"] = self.datatype
        if self.lang:
            d["lang"] = self.lang
        if self.default is not None:
            d["default"] = self.default
        if self.enum:
            d["enum"] = list(self.enum)
        return d


def _schema_value(schema: dict[str, Any], value: str) -> Any:
    t = schema.get("type")
    try:
        if t == "integer":
            return int(value)
        if t == "number":
            return float(value)
        if t == "boolean":
            return value in ("true", "1")
    except ValueError:
        return value
    return value
