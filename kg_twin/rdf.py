"""Tiny typed RDF terms and an N-Triples writer for producers (ingest mappers, live state).

Producers emit typed terms; they are serialized exactly once, to N-Triples, and the
store's native parser loads them in bulk. No RDF library objects on the hot path.

>>> t = (IRI("http://ex/a"), IRI("http://ex/p"), Literal("4.5", datatype=XSD_DECIMAL))
>>> ntriple(*t)
'<http://ex/a> <http://ex/p> "4.5"^^<http://www.w3.org/2001/XMLSchema#decimal> .\\n'
>>> ntriple(IRI("http://ex/a"), IRI("http://ex/p"), Literal('say "hi"\\n', lang="en"))
'<http://ex/a> <http://ex/p> "say \\\\"hi\\\\"\\\\n"@en .\\n'
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO, Iterable, Union

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
XSD_INTEGER = XSD + "integer"
XSD_DECIMAL = XSD + "decimal"
XSD_DOUBLE = XSD + "double"
XSD_BOOLEAN = XSD + "boolean"
XSD_DATE = XSD + "date"
XSD_DATETIME = XSD + "dateTime"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

_ESC = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"})
_IRI_BAD = set('<>"{}|^`\\ ') | {chr(i) for i in range(0x21)}


class IRI(str):
    """An IRI (a ``str`` subclass, so it can be used as a plain string)."""

    __slots__ = ()

    def nt(self) -> str:
        if any(c in _IRI_BAD for c in self):
            raise ValueError(f"invalid IRI {str(self)!r}")
        return f"<{self}>"


@dataclass(frozen=True, slots=True)
class BNode:
    id: str

    def nt(self) -> str:
        return f"_:{self.id}"


@dataclass(frozen=True, slots=True)
class Literal:
    value: str
    datatype: str | None = None
    lang: str | None = None

    def nt(self) -> str:
        v = '"' + str(self.value).translate(_ESC) + '"'
        if self.lang:
            return f"{v}@{self.lang}"
        if self.datatype and self.datatype != XSD_STRING:
            return f"{v}^^<{self.datatype}>"
        return v

    @classmethod
    def of(cls, value: object) -> "Literal":
        """Typed literal from a Python value (bool, int, float, str, date, datetime)."""
        import datetime as _dt

        if isinstance(value, bool):
            return cls("true" if value else "false", XSD_BOOLEAN)
        if isinstance(value, int):
            return cls(str(value), XSD_INTEGER)
        if isinstance(value, float):
            return cls(repr(value), XSD_DOUBLE)
        if isinstance(value, _dt.datetime):
            return cls(value.isoformat(), XSD_DATETIME)
        if isinstance(value, _dt.date):
            return cls(value.isoformat(), XSD_DATE)
        return cls(str(value))


Term = Union[IRI, BNode, Literal]


def ntriple(s: Term, p: IRI, o: Term) -> str:
    return f"{s.nt()} {p.nt()} {o.nt()} .\n"


class NTriplesWriter:
    """Accumulates triples as N-Triples text, counting them.

    >>> w = NTriplesWriter()
    >>> w.add(IRI("http://ex/a"), IRI(RDF_TYPE), IRI("http://ex/C"))
    >>> w.count, w.getvalue().startswith(b"<http://ex/a>")
    (1, True)
    """

    def __init__(self, out: IO[str] | None = None) -> None:
        self._buf = out if out is not None else io.StringIO()
        self.count = 0

    def add(self, s: Term, p: IRI, o: Term) -> None:
        self._buf.write(ntriple(s, p, o))
        self.count += 1

    def extend(self, triples: Iterable[tuple[Term, IRI, Term]]) -> None:
        for t in triples:
            self.add(*t)

    def getvalue(self) -> bytes:
        if isinstance(self._buf, io.StringIO):
            return self._buf.getvalue().encode("utf-8")
        raise TypeError("writer is bound to an external stream")
