"""Training pairs for the learned classifier: (point name, Brick class, building) from Brick models.

:func:`points_of_model` reads a Brick model (any Brick version: classes are matched by local name
against the pinned Brick, then followed through its alias / replacement table) and returns the
typed points with their names (``rdfs:label``, else the IRI's local name). Points typed only
``brick:Point`` carry no class information and are left out; a point with several classes keeps the
most specific one (none when they disagree).

The shipped corpus (``data/corpus.csv``) is built by ``python scripts/build_label_corpus.py``
from the public models listed in ``data/README.md``; :func:`load_corpus` reads it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from kg_twin.ingest.labels.brick import BrickIndex, brick_index
from kg_twin.terms import BRICK

CORPUS = Path(__file__).resolve().parent / "data" / "corpus.csv"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_IRI_ESCAPES = {ch: "%{:02X}".format(ord(ch)) for ch in '[]{}|^`\\"'}  # characters IRIs may not hold


@dataclass(frozen=True)
class Example:
    name: str
    brick_class: str  # full IRI in the pinned Brick
    building: str
    count: int = 1  # names of the building with this pattern (digits aside) and class


def pattern_key(name: str) -> str:
    """A name with its numbers as ``#`` (``AHU-1 SAT`` and ``AHU-2 SAT`` are one pattern).

    >>> pattern_key("EBU3B_RM_2230_ACTCLGSP")
    'ebu#b_rm_#_actclgsp'
    """
    return re.sub(r"\d+", "#", name.lower())


def local_name(iri: str) -> str:
    """The part of an IRI after ``#`` (else after the last ``/``), percent-decoded.

    >>> local_name("http://cmu.edu/building/ontology/ghc#SCSC_Gates/1000_Corridor/Airflow")
    'SCSC_Gates/1000_Corridor/Airflow'
    >>> local_name("http://example.org/b/AHU%201%20SAT")
    'AHU 1 SAT'
    """
    tail = iri.split("#", 1)[1] if "#" in iri else iri.rstrip("/").rsplit("/", 1)[-1]
    return unquote(tail)


def pinned_class(iri: str, idx: BrickIndex) -> str | None:
    """A Brick class IRI of any Brick version -> the pinned Brick's class (None if it has none)."""
    if not re.match(r"https?://brickschema\.org/schema/(?:[0-9.]+/)?Brick#", iri):
        return None
    cand = BRICK + iri.split("#", 1)[1]
    return idx.canonical(cand) if cand in idx.classes else None


def points_of_model(path: str | Path, building: str, *, idx: BrickIndex | None = None) -> list[Example]:
    """Typed points of a Brick model file (Turtle). Old models carry characters IRIs may not hold
    (``%`` that is no escape, ``[``, ``|``, ...); they are percent-escaped before parsing and decoded
    back in the names (:func:`local_name`)."""
    from kg_twin.store.base import scratch_store

    idx = idx or brick_index()
    text = Path(path).read_text(encoding="utf-8")
    text = re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", text)
    text = re.sub(r"<([^<>\s]*)>", lambda m: "<" + "".join(_IRI_ESCAPES.get(ch, ch) for ch in m.group(1)) + ">", text)
    store = scratch_store()
    store.load(text.encode("utf-8"), format="turtle", graph="urn:kg-twin:corpus")
    classes: dict[str, set[str]] = {}
    labels: dict[str, str] = {}
    for r in store.select(f"SELECT ?s ?c WHERE {{ GRAPH ?g {{ ?s <{RDF_TYPE}> ?c }} FILTER(isIRI(?s) && isIRI(?c)) }}"):
        cls = pinned_class(str(r["c"]), idx)
        if cls is not None and idx.is_a(cls, BRICK + "Point"):
            classes.setdefault(str(r["s"]), set()).add(cls)
    for r in store.select(f"SELECT ?s ?l WHERE {{ GRAPH ?g {{ ?s <{RDFS_LABEL}> ?l }} FILTER(isIRI(?s) && isLiteral(?l)) }}"):
        labels.setdefault(str(r["s"]), str(r["l"]))
    out: list[Example] = []
    for s, cs in sorted(classes.items()):
        specific = {c for c in cs if not any(o != c and idx.is_a(o, c) for o in cs)} - {BRICK + "Point"}
        if len(specific) != 1:
            continue
        name = (labels.get(s) or local_name(s)).strip()
        if name:
            out.append(Example(name, specific.pop(), building))
    return out


def write_corpus(examples: list[Example], path: Path = CORPUS) -> None:
    """One row per (pattern, class, building) with the number of names it stands for."""
    groups: dict[tuple[str, str, str], list[Example]] = {}
    for e in examples:
        groups.setdefault((pattern_key(e.name), e.brick_class, e.building), []).append(e)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "brick_class", "building", "count"])
        for (_, cls, building), es in groups.items():
            w.writerow([es[0].name, "brick:" + cls[len(BRICK) :], building, sum(e.count for e in es)])


def load_corpus(path: str | Path = CORPUS) -> list[Example]:
    """The examples of a corpus CSV (``name,brick_class,building[,count]``; classes as ``brick:X``).

    >>> len(load_corpus()) > 1000
    True
    """
    out: list[Example] = []
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            cls = r["brick_class"].strip()
            iri = BRICK + cls[len("brick:") :] if cls.startswith("brick:") else cls
            out.append(Example(r["name"], iri, r["building"], int(r.get("count") or 1)))
    return out
