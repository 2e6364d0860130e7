"""The pinned ontology bundle (``ontologies/``): which modules there are, and how to get them.

Every module is a set of files in ``ontologies/`` with a version, source and licence
(``ontologies/README.md`` says where each came from). Other code uses:

* :func:`bundle_files` - the files of some modules (and what they need), in load order;
* :func:`load_ontology_closure` - those modules as one N-Triples / Turtle byte string, with
  ``owl:imports`` removed so nothing is ever fetched (validation gives this to SHACL as the
  ontology graph, so the class hierarchy is known without validating the ontology as data);
* :func:`ontology_graph` / :data:`ONTOLOGY_GRAPH` - the named graph a module is loaded into
  when it is put in a store (``{base}graph/_ontology/{module}``), and :func:`load_into_store`.

>>> [m.name for m in module_closure(["brick-bot"])]
['brick-ref', 'brick', 'bot', 'brick-bot']
>>> ontology_graph("http://t/", "brick")
'http://t/graph/_ontology/brick'
>>> b"<https://w3id.org/kg-twin/ontology#Asset>" in load_ontology_closure(["kgt"])
True
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from kg_twin.errors import InputError, KgTwinError
from kg_twin.terms import OWL, RDFS

if TYPE_CHECKING:  # pragma: no cover
    from kg_twin.store.base import GraphStore

OWL_IMPORTS = OWL + "imports"

#: Template of the named graph that holds one ontology module in a store.
ONTOLOGY_GRAPH = "{base}graph/_ontology/{module}"


@dataclass(frozen=True)
class Module:
    """One module of the bundle."""

    name: str
    title: str
    files: tuple[str, ...]  # relative to the bundle directory
    version: str
    namespace: str
    licence: str
    source: str
    depends: tuple[str, ...] = ()
    ontology_iris: tuple[str, ...] = field(default=())
    notes: str = ""


MODULES: dict[str, Module] = {
    m.name: m
    for m in [
        Module(
            "brick-ref",
            "Brick external references (ref schema)",
            ("brick/ref-schema.ttl",),
            "as of Brick 1.5",
            "https://brickschema.org/schema/Brick/ref#",
            "BSD-3-Clause (Brick Consortium)",
            "BrickSchema/Brick support/ref-schema.ttl",
            ontology_iris=("https://brickschema.org/schema/Brick/ref",),
        ),
        Module(
            "brick",
            "Brick",
            ("brick/Brick.ttl",),
            "1.5.0",
            "https://brickschema.org/schema/Brick#",
            "BSD-3-Clause (Brick Consortium)",
            "brickschema 0.8.0 package, ontologies/1.5/Brick.ttl (its default Brick version)",
            depends=("brick-ref",),
            ontology_iris=("https://brickschema.org/schema/1.5/Brick", "https://brickschema.org/schema/Brick"),
            notes="owl:imports of QUDT 3.3.0 units/quantity kinds, BACnet and REC are not bundled (brickschema does not ship them); REC and BACnet terms Brick uses are inside Brick.ttl",
        ),
        Module(
            "bot",
            "Building Topology Ontology (BOT)",
            ("bot.ttl",),
            "0.3.1",
            "https://w3id.org/bot#",
            "CC BY 1.0 (W3C LBD CG)",
            "w3c-lbd-cg/bot bot.ttl @ bcfd7ce (English subset, transcribed)",
            ontology_iris=("https://w3id.org/bot#", "https://w3id.org/bot", "https://w3id.org/bot-0.3.2"),
        ),
        Module(
            "brick-bot",
            "Brick to BOT alignment",
            ("brick/Brick-BOT-alignment.ttl",),
            "2.0.0",
            "https://w3id.org/bot/BRICKAlignment#",
            "CC BY 3.0 (W3C LBD CG)",
            "BrickSchema/Brick alignments/bot/Brick-BOT-alignment.ttl (same file as brickschema 0.8 ontologies/1.5/alignments)",
            depends=("brick", "bot"),
            ontology_iris=("https://w3id.org/bot/BRICKAlignment",),
        ),
        Module(
            "geosparql",
            "OGC GeoSPARQL",
            ("geosparql.ttl",),
            "1.1",
            "http://www.opengis.net/ont/geosparql#",
            "OGC Document Licence / CC BY 4.0",
            "npm @vocabulary/geo 1.0.6 (zazuko rdf-vocabularies)",
            ontology_iris=("http://www.opengis.net/ont/geosparql",),
        ),
        Module(
            "sf",
            "OGC Simple Features geometry classes",
            ("sf.ttl",),
            "1.0 (GeoSPARQL 1.1 sf)",
            "http://www.opengis.net/ont/sf#",
            "OGC Document Licence / CC BY 4.0",
            "npm @vocabulary/sf 1.0.6 (zazuko rdf-vocabularies)",
            depends=("geosparql",),
            ontology_iris=("http://www.opengis.net/ont/sf",),
        ),
        Module(
            "sosa",
            "Sensor, Observation, Sample and Actuator (SOSA)",
            ("sosa.ttl",),
            "2017 (W3C Recommendation)",
            "http://www.w3.org/ns/sosa/",
            "W3C Software and Document License",
            "npm @vocabulary/sosa 1.0.6 (zazuko rdf-vocabularies)",
            ontology_iris=("http://www.w3.org/ns/sosa/",),
        ),
        Module(
            "ssn",
            "Semantic Sensor Network (SSN)",
            ("ssn.ttl",),
            "2017 (W3C Recommendation)",
            "http://www.w3.org/ns/ssn/",
            "W3C Software and Document License",
            "npm @vocabulary/ssn 1.0.6 (zazuko rdf-vocabularies)",
            depends=("sosa",),
            ontology_iris=("http://www.w3.org/ns/ssn/",),
        ),
        Module(
            "prov",
            "PROV-O (W3C provenance ontology, with the prov namespace document's extensions)",
            ("prov-o.ttl",),
            "2013-04-30 (W3C Recommendation)",
            "http://www.w3.org/ns/prov#",
            "W3C Software and Document License",
            "npm @vocabulary/prov 1.0.6 (zazuko rdf-vocabularies; the W3C prov namespace document)",
            ontology_iris=("http://www.w3.org/ns/prov-o#", "http://www.w3.org/ns/prov#", "http://www.w3.org/ns/prov-o"),
        ),
        Module(
            "dcat",
            "Data Catalog Vocabulary (DCAT)",
            ("dcat.ttl", "dcat3-additions.ttl"),
            "3 (DCAT 2 file + DCAT 3 additions)",
            "http://www.w3.org/ns/dcat#",
            "W3C Software and Document License / CC BY 4.0",
            "npm @vocabulary/dcat 1.0.5 (W3C DCAT 2 file) + dcat3-additions.ttl written from the DCAT 3 Recommendation",
            depends=("prov",),
            ontology_iris=("http://www.w3.org/ns/dcat", "http://www.w3.org/ns/dcat#"),
        ),
        Module(
            "ifc",
            "ifcOWL IFC4 ADD2 TC1 product class hierarchy (extract)",
            ("ifc4-products.ttl",),
            "IFC4 ADD2 TC1",
            "https://standards.buildingsmart.org/IFC/DEV/IFC4/ADD2_TC1/OWL#",
            "IFC: buildingSMART (ISO 16739-1); ifcOWL naming CC BY 4.0",
            "generated by ontologies/tools/ifc4_products.py from IfcOpenShell 0.9's IFC4 EXPRESS schema",
            ontology_iris=("https://w3id.org/kg-twin/ontologies/ifc4-products", "https://standards.buildingsmart.org/IFC/DEV/IFC4/ADD2_TC1/OWL"),
        ),
        Module(
            "kgt",
            "kg-twin core ontology",
            ("kgt.ttl",),
            "0.1.0",
            "https://w3id.org/kg-twin/ontology#",
            "Apache-2.0",
            "this project",
            depends=("brick", "bot", "brick-bot", "geosparql", "sosa", "dcat", "prov"),
            ontology_iris=("https://w3id.org/kg-twin/ontology",),
        ),
    ]
}

#: The Brick version of the bundle: the one Brick every part of kg-twin reads (labels, live, validation, inference).
BRICK_VERSION = ".".join(MODULES["brick"].version.split(".")[:2])

#: Modules a project gets when it does not choose: the whole bundle.
DEFAULT_MODULES: tuple[str, ...] = ("kgt", "sf", "ssn", "ifc")


def bundle_dir() -> Path:
    """The ``ontologies/`` directory (``KG_TWIN_ONTOLOGY_DIR`` overrides it).

    >>> (bundle_dir() / "kgt.ttl").is_file()
    True
    """
    env = os.environ.get("KG_TWIN_ONTOLOGY_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "ontologies"


def module_closure(names: Iterable[str] | None = None) -> list[Module]:
    """The modules named and everything they depend on, dependencies first."""
    wanted = list(names) if names is not None else list(DEFAULT_MODULES)
    out: list[Module] = []
    seen: set[str] = set()

    def visit(n: str, path: tuple[str, ...]) -> None:
        if n in seen:
            return
        if n not in MODULES:
            raise InputError(
                "UNKNOWN_ONTOLOGY_MODULE",
                f"unknown ontology module {n!r}",
                hint="known modules: " + ", ".join(MODULES),
            )
        if n in path:  # pragma: no cover - the table above has no cycles
            raise KgTwinError("ONTOLOGY_CYCLE", f"dependency cycle {' -> '.join(path + (n,))}")
        for d in MODULES[n].depends:
            visit(d, path + (n,))
        seen.add(n)
        out.append(MODULES[n])

    for n in wanted:
        visit(n, ())
    return out


def module_paths(module: Module) -> list[Path]:
    root = bundle_dir()
    paths = [root / f for f in module.files]
    for p in paths:
        if not p.is_file():
            raise KgTwinError(
                "ONTOLOGY_FILE_MISSING",
                f"ontology file {p} of module {module.name!r} is missing",
                hint="the ontologies/ folder of the source tree must be present (or set KG_TWIN_ONTOLOGY_DIR)",
            )
    return paths


def brick_file() -> Path:
    """The bundle's ``Brick.ttl`` (Brick :data:`BRICK_VERSION`).

    >>> brick_file().name, BRICK_VERSION
    ('Brick.ttl', '1.5')
    """
    return module_paths(MODULES["brick"])[0]


def bundle_files(modules: Iterable[str] | None = None) -> list[Path]:
    """Files of the given modules and their dependencies, in load order.

    >>> [p.name for p in bundle_files(["sf"])]
    ['geosparql.ttl', 'sf.ttl']
    """
    return [p for m in module_closure(modules) for p in module_paths(m)]


def bundle_hash(modules: Iterable[str] | None = None) -> str:
    """SHA-256 over the module names and file bytes: changes whenever the bundle changes."""
    h = hashlib.sha256()
    for m in module_closure(modules):
        h.update(m.name.encode() + b"\0")
        for p in module_paths(m):
            h.update(p.name.encode() + b"\0")
            h.update(p.read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=16)
def _module_bytes(name: str, fmt: str, digest: str) -> bytes:
    from kg_twin.store.convert import convert

    return b"".join(convert(p, from_format="turtle", to_format=fmt, drop_predicates=[OWL_IMPORTS]) for p in module_paths(MODULES[name]))


def module_rdf(name: str, *, format: str = "ntriples") -> bytes:
    """One module as RDF bytes (N-Triples by default), ``owl:imports`` removed."""
    if format not in ("ntriples", "nt"):
        from kg_twin.store.convert import convert

        return convert(module_rdf(name), from_format="ntriples", to_format=format)
    return _module_bytes(name, "ntriples", bundle_hash([name]))


#: The class / property hierarchy of an ontology: what SHACL's sh:class and rdfs-style reasoning
#: need, without labels, definitions, shapes or restrictions.
HIERARCHY_QUERY = f"""
CONSTRUCT {{
  ?c a <{OWL}Class> . ?c <{RDFS}subClassOf> ?d . ?c <{OWL}equivalentClass> ?e . ?c <{OWL}disjointWith> ?f .
  ?p a ?ptype . ?p <{RDFS}subPropertyOf> ?q . ?p <{OWL}inverseOf> ?r .
}} WHERE {{
  {{ ?c a <{OWL}Class> FILTER(isIRI(?c)) }}
  UNION {{ ?c <{RDFS}subClassOf> ?d FILTER(isIRI(?c) && isIRI(?d)) }}
  UNION {{ ?c <{OWL}equivalentClass> ?e FILTER(isIRI(?c) && isIRI(?e)) }}
  UNION {{ ?c <{OWL}disjointWith> ?f FILTER(isIRI(?c) && isIRI(?f)) }}
  UNION {{ ?p a ?ptype VALUES ?ptype {{ <{OWL}ObjectProperty> <{OWL}DatatypeProperty> <{OWL}TransitiveProperty> <{OWL}SymmetricProperty> }} FILTER(isIRI(?p)) }}
  UNION {{ ?p <{RDFS}subPropertyOf> ?q ; a <{OWL}ObjectProperty> . ?q a <{OWL}ObjectProperty> FILTER(isIRI(?p) && isIRI(?q)) }}
  UNION {{ ?p <{RDFS}subPropertyOf> ?q ; a <{OWL}DatatypeProperty> . ?q a <{OWL}DatatypeProperty> FILTER(isIRI(?p) && isIRI(?q)) }}
  UNION {{ ?p <{OWL}inverseOf> ?r FILTER(isIRI(?p) && isIRI(?r)) }}
}}
"""

# objects of subClassOf / equivalentClass / disjointWith are classes too
_HIERARCHY_DECLARE = f"""
CONSTRUCT {{ ?d a <{OWL}Class> }} WHERE {{
  ?c <{RDFS}subClassOf>|<{OWL}equivalentClass>|<{OWL}disjointWith> ?d FILTER(isIRI(?c) && isIRI(?d))
}}
"""


def class_hierarchy(nt: bytes) -> bytes:
    """The class-hierarchy extract of N-Triples data (:data:`HIERARCHY_QUERY`), as N-Triples.

    >>> lines = [b'<http://e/A> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <http://e/B> .',
    ...          b'<http://e/A> <http://www.w3.org/2000/01/rdf-schema#label> "A" .']
    >>> len(class_hierarchy(bytes([10]).join(lines)).splitlines())  # subClassOf + two class declarations
    3
    """
    from kg_twin.store.convert import Scratch

    s = Scratch()
    s.add(nt, format="ntriples")
    return s.construct(HIERARCHY_QUERY) + s.construct(_HIERARCHY_DECLARE)


def load_ontology_closure(modules: Iterable[str] | None = None, *, format: str = "ntriples", hierarchy_only: bool = False) -> bytes:
    """The named modules and their dependencies as one RDF document (no ``owl:imports``).

    N-Triples (default) is a plain concatenation; ``turtle`` re-serializes the merge.
    ``hierarchy_only``: only the class / property hierarchy (:func:`class_hierarchy`), which is
    all SHACL needs for ``sh:class`` and much smaller (Brick: about 5k of 62k triples).
    Results are cached in the process per bundle content.
    """
    names = tuple(m.name for m in module_closure(modules))
    fmt = "ntriples" if format in ("ntriples", "nt") else format
    return _closure_bytes(names, fmt, hierarchy_only, bundle_hash(names))


@lru_cache(maxsize=16)
def _closure_bytes(names: tuple[str, ...], fmt: str, hierarchy_only: bool, digest: str) -> bytes:
    nt = b"".join(module_rdf(n) for n in names)
    if hierarchy_only:
        nt = class_hierarchy(nt)
    if fmt == "ntriples":
        return nt
    from kg_twin.store.convert import convert

    return convert(nt, from_format="ntriples", to_format=fmt)


def ontology_graph(base: str, module: str) -> str:
    """Named graph IRI for one module in a store."""
    if not base.endswith(("/", "#")):
        base += "/"
    return ONTOLOGY_GRAPH.format(base=base, module=module)


def load_into_store(store: "GraphStore", base: str, modules: Iterable[str] | None = None) -> dict[str, int]:
    """Put modules (and their dependencies) into their ontology graphs; each graph is replaced.

    Returns ``{graph IRI: triples}``.
    """
    out = {}
    for m in module_closure(modules):
        g = ontology_graph(base, m.name)
        out[g] = store.load(module_rdf(m.name), format="ntriples", graph=g, replace=True)
    return out


def module_stats(modules: Iterable[str] | None = None) -> list[dict[str, object]]:
    """One row per module: name, title, version, triples, files, licence, source."""
    from kg_twin.store.convert import count_triples

    names = list(modules) if modules is not None else list(MODULES)
    rows = []
    for m in module_closure(names):
        rows.append(
            {
                "module": m.name,
                "title": m.title,
                "version": m.version,
                "triples": sum(count_triples(p, format="turtle") for p in module_paths(m)),
                "files": list(m.files),
                "namespace": m.namespace,
                "licence": m.licence,
                "source": m.source,
                "depends": list(m.depends),
            }
        )
    return rows
