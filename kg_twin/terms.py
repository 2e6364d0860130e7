"""Namespaces and deterministic IRI minting.

All IRIs the twin creates are derived from the configured base IRI:

* graphs:    ``{base}graph/{project}/{name}``
* instances: ``{base}id/{project}/{kind}/{key}``
* system:    ``{base}graph/_system`` (project catalogue, DCAT)

>>> n = Naming("https://twin.example.org/")
>>> n.graph("campus", "sensors")
'https://twin.example.org/graph/campus/sensors'
>>> n.mint("campus", "space", "Room 101")
'https://twin.example.org/id/campus/space/Room%20101'
>>> n.project_of_graph("https://twin.example.org/graph/campus/sensors")
'campus'
"""

from __future__ import annotations

import re
from urllib.parse import quote

from kg_twin.errors import InputError

# --- well-known namespaces (strings; no RDF library needed to use them) ---
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SH = "http://www.w3.org/ns/shacl#"
BRICK = "https://brickschema.org/schema/Brick#"
REF = "https://brickschema.org/schema/Brick/ref#"
TAG = "https://brickschema.org/schema/BrickTag#"
UNIT = "http://qudt.org/vocab/unit/"
QUDT = "http://qudt.org/schema/qudt/"
BOT = "https://w3id.org/bot#"
IFC = "https://standards.buildingsmart.org/IFC/DEV/IFC4/ADD2_TC1/OWL#"
GEO = "http://www.opengis.net/ont/geosparql#"
GEOF = "http://www.opengis.net/def/function/geosparql/"
SF = "http://www.opengis.net/ont/sf#"
SOSA = "http://www.w3.org/ns/sosa/"
SSN = "http://www.w3.org/ns/ssn/"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
FOAF = "http://xmlns.com/foaf/0.1/"
SD = "http://www.w3.org/ns/sparql-service-description#"
KGT = "https://w3id.org/kg-twin/ontology#"
KGT_SH = "https://w3id.org/kg-twin/shapes#"

PREFIXES: dict[str, str] = {
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "sh": SH,
    "brick": BRICK,
    "ref": REF,
    "tag": TAG,
    "unit": UNIT,
    "qudt": QUDT,
    "bot": BOT,
    "ifc": IFC,
    "geo": GEO,
    "geof": GEOF,
    "sf": SF,
    "sosa": SOSA,
    "ssn": SSN,
    "dcat": DCAT,
    "dcterms": DCTERMS,
    "prov": PROV,
    "foaf": FOAF,
    "kgt": KGT,
}

PROJECT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

# Graph names inside a project that are not user data.
DEFAULT_GRAPH_NAME = "default"
INFERRED_GRAPH_NAME = "inferred"
HIDDEN_PREFIX = "_"  # _staging/..., _quarantine/... never visible to queries


def check_project_id(project: str) -> str:
    if not PROJECT_ID_RE.match(project or ""):
        raise InputError(
            "BAD_PROJECT_ID",
            f"invalid project id {project!r}",
            hint="use 1-63 characters: lowercase letters, digits, '-' and '_', starting with a letter or digit",
        )
    return project


def _key(key: str) -> str:
    return quote(str(key).strip(), safe="-._~")


class Naming:
    """IRI scheme of one deployment (one base IRI)."""

    def __init__(self, base: str) -> None:
        if not base.endswith(("/", "#")):
            base = base + "/"
        self.base = base
        self.graph_root = base + "graph/"
        self.system_graph = base + "graph/_system"

    # graphs -------------------------------------------------------------
    def project_graph_prefix(self, project: str) -> str:
        return f"{self.graph_root}{project}/"

    def graph(self, project: str, name: str) -> str:
        return f"{self.graph_root}{project}/{name}"

    def default_graph(self, project: str) -> str:
        return self.graph(project, DEFAULT_GRAPH_NAME)

    def inferred_graph(self, project: str) -> str:
        return self.graph(project, INFERRED_GRAPH_NAME)

    def staging_graph(self, project: str, source: str) -> str:
        return self.graph(project, f"{HIDDEN_PREFIX}staging/{source}")

    def quarantine_graph(self, project: str, source: str) -> str:
        return self.graph(project, f"{HIDDEN_PREFIX}quarantine/{source}")

    def project_of_graph(self, graph_iri: str) -> str | None:
        if not graph_iri.startswith(self.graph_root):
            return None
        rest = graph_iri[len(self.graph_root) :]
        project, sep, name = rest.partition("/")
        if not sep or not name or not PROJECT_ID_RE.match(project):
            return None
        return project

    def is_hidden(self, graph_iri: str) -> bool:
        p = self.project_of_graph(graph_iri)
        if p is None:
            return True
        return graph_iri[len(self.project_graph_prefix(p)) :].startswith(HIDDEN_PREFIX)

    def resolve_graph(self, project: str, graph: str) -> str:
        """Stored name of a user-given graph: a short name, or any IRI the client chooses.

        A project is an RDF dataset: any IRI names a graph of it (see :mod:`kg_twin.sparql.dataset`).

        >>> n = Naming("http://t/")
        >>> n.resolve_graph("p", "sensors")
        'http://t/graph/p/sensors'
        >>> n.resolve_graph("p", "http://example.org/g")
        'http://t/graph/p/~/http://example.org/g'
        >>> n.resolve_graph("p", "../q/x")
        Traceback (most recent call last):
        ...
        kg_twin.errors.InputError: [BAD_GRAPH] graph name '../q/x' has a '.' or '..' segment
          hint: use a short name such as 'sensors' or a full IRI
        """
        from kg_twin.sparql.dataset import ProjectDataset, check_graph_iri

        ds = ProjectDataset(self.project_graph_prefix(project))
        if ":" not in graph:
            name = graph.strip("/")
            if not name:
                raise InputError("BAD_GRAPH", "empty graph name", hint="use a short name such as 'sensors' or a full IRI")
            if any(seg in (".", "..") for seg in name.split("/")):
                raise InputError("BAD_GRAPH", f"graph name {graph!r} has a '.' or '..' segment", hint="use a short name such as 'sensors' or a full IRI")
            return ds.stored(check_graph_iri(self.graph(project, name)))
        return ds.stored(check_graph_iri(graph))

    def client_graph(self, project: str, stored: str) -> str:
        """The graph IRI a client uses for a stored graph name (inverse of :meth:`resolve_graph`)."""
        from kg_twin.sparql.dataset import ProjectDataset

        return ProjectDataset(self.project_graph_prefix(project)).client(stored)

    # instances ----------------------------------------------------------
    def mint(self, project: str, kind: str, key: str) -> str:
        """Deterministic instance IRI: the same (project, kind, key) always gives the same IRI."""
        return f"{self.base}id/{project}/{_key(kind)}/{_key(key)}"

    def project_iri(self, project: str) -> str:
        return f"{self.base}project/{project}"


def mint(base: str, project: str, kind: str, key: str) -> str:
    """Module-level shortcut of :meth:`Naming.mint`."""
    return Naming(base).mint(project, kind, key)
