"""OWL consistency check of the ontology bundle with owlready2 + HermiT.

``kg-twin ontologies check`` proves that the twin's core ontology (``kgt.ttl``) and the modules
it aligns (Brick, BOT, the Brick-BOT alignment, GeoSPARQL, SOSA/SSN, DCAT, PROV-O, ifcOWL
extract) are consistent together, and lists unsatisfiable classes (classes that can have no
instance, which is how a wrong alignment shows up).

How each module is loaded:

* The module is converted to N-Triples without ``owl:imports`` (nothing is fetched) and loaded
  into owlready2 in full.
* Where owlready2 cannot load a module (owlready2 0.51 fails on the full Brick file: Brick puns
  classes as SHACL shapes and skos concepts, which owlready2's Python class model rejects),
  the module's class-hierarchy extract is loaded instead: named classes with their
  ``rdfs:subClassOf`` / ``owl:equivalentClass`` / ``owl:disjointWith`` links to named classes,
  and the object / datatype property hierarchy with inverses and transitivity / symmetry.
  ``owl:AsymmetricProperty`` is left out of the extract: Brick declares transitive properties
  (``brick:isPartOf``) asymmetric, which OWL 2 DL forbids (asymmetry needs a simple property)
  and HermiT refuses. The report says which modules were checked that way.
* HermiT supports only the OWL 2 datatype map. Datatypes outside it that the bundle uses as
  property ranges (``geo:wktLiteral``, ``xsd:duration``, ``xsd:date``...) are declared
  equivalent to ``rdfs:Literal`` for the check, and the report lists them.

The result is cached by bundle hash (and owlready2 version) as JSON, so a second check of an
unchanged bundle is instant.

>>> r = CheckReport(consistent=True, unsatisfiable=[], modules=[], bundle_hash="x")
>>> r.exit_code
0
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from kg_twin.errors import InputError, KgTwinError
from kg_twin.ontologies import Module, bundle_hash, class_hierarchy, module_closure, module_rdf
from kg_twin.terms import OWL, RDF, RDFS, XSD

log = logging.getLogger(__name__)

CHECK_VERSION = "1"  # bump when the check itself changes (invalidates caches)

#: Datatypes HermiT knows (the OWL 2 datatype map).
OWL2_DATATYPES = {RDF + "PlainLiteral", RDF + "XMLLiteral", RDF + "langString", RDFS + "Literal", OWL + "real", OWL + "rational"} | {
    XSD + n
    for n in (
        "decimal integer nonNegativeInteger nonPositiveInteger positiveInteger negativeInteger long int short byte "
        "unsignedLong unsignedInt unsignedShort unsignedByte double float string normalizedString token language "
        "Name NCName NMTOKEN boolean hexBinary base64Binary anyURI dateTime dateTimeStamp"
    ).split()
}

_DATATYPES_QUERY = f"""
SELECT DISTINCT ?d WHERE {{
  {{ ?p a <{OWL}DatatypeProperty> ; <{RDFS}range> ?d }}
  UNION {{ ?d a <{RDFS}Datatype> }}
  UNION {{ ?x <{OWL}onDatatype> ?d }}
  UNION {{ ?x <{OWL}someValuesFrom>|<{OWL}allValuesFrom>|<{OWL}onDataRange> ?d . FILTER(STRSTARTS(STR(?d), "{XSD}")) }}
  FILTER(isIRI(?d))
}}
"""

@dataclass
class ModuleCheck:
    module: str
    version: str
    mode: str  # "full" or "class-hierarchy extract"
    triples: int  # triples handed to the reasoner for this module
    reason: str = ""  # why the extract was used


@dataclass
class CheckReport:
    consistent: bool
    unsatisfiable: list[str]
    modules: list[ModuleCheck]
    bundle_hash: str
    relaxed_datatypes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reasoner: str = ""
    seconds: float = 0.0
    cached: bool = False
    checked_at: str = ""

    @property
    def ok(self) -> bool:
        return self.consistent and not self.unsatisfiable

    @property
    def exit_code(self) -> int:
        """0 consistent with no unsatisfiable class, 1 otherwise."""
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CheckReport":
        d = dict(d)
        d.pop("ok", None)
        d["modules"] = [ModuleCheck(**m) for m in d["modules"]]
        return cls(**d)


def default_cache_dir(data_dir: str | Path | None = None) -> Path:
    """``{data_dir}/cache`` when a data dir is given, else ``$XDG_CACHE_HOME/kg-twin`` (``~/.cache/kg-twin``)."""
    if data_dir is not None:
        return Path(data_dir) / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kg-twin"


def _owlready():
    try:
        import owlready2
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise KgTwinError("OWLREADY2_MISSING", f"owlready2 is not importable: {e}", hint="pip install owlready2") from None
    return owlready2


def _cache_key(names: list[str], extra: list[Path]) -> str:
    owlready2 = _owlready()
    h = hashlib.sha256()
    h.update(bundle_hash(names).encode())
    for p in extra:
        h.update(b"|extra " + p.name.encode() + b"\0" + p.read_bytes())
    h.update(f"|owlready2 {getattr(owlready2, 'VERSION', '?')}|check {CHECK_VERSION}".encode())
    return h.hexdigest()


def _skeleton(nt: bytes) -> bytes:
    return class_hierarchy(nt)


def _datatypes(nt: bytes) -> set[str]:
    from kg_twin.store.convert import Scratch

    s = Scratch()
    s.add(nt, format="ntriples")
    return {row["d"] for row in s.select(_DATATYPES_QUERY)}


def _datatype_shim(datatypes: Iterable[str]) -> bytes:
    lines = []
    for d in sorted(datatypes):
        lines.append(f"<{d}> <{RDF}type> <{RDFS}Datatype> .")
        lines.append(f"<{d}> <{OWL}equivalentClass> <{RDFS}Literal> .")
    return ("\n".join(lines) + "\n").encode() if lines else b""


def _try_load(owlready2: Any, iri: str, nt: bytes) -> str | None:
    """Load into a throw-away world; return the error text if owlready2 cannot load it."""
    world = owlready2.World()
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            world.get_ontology(iri).load(fileobj=io.BytesIO(nt), format="ntriples")
    except Exception as e:  # owlready2 raises plain TypeError/ValueError etc. on models it cannot represent
        return f"{type(e).__name__}: {e}"
    finally:
        with contextlib.suppress(Exception):
            world.close()
    return None


def _run_hermit(owlready2: Any, world: Any, timeout_s: float) -> tuple[bool, list[str]]:
    """Save the owlready2 world as N-Triples and ask owlready2's HermiT: consistent? unsatisfiable classes?

    (``owlready2.sync_reasoner_hermit`` would also write the classification back into Python
    objects, which fails on punned terms; the check needs only the two answers.)
    """
    import subprocess
    import tempfile

    from owlready2.reasoning import _HERMIT_CLASSPATH, JAVA_MEMORY

    imports = world._abbreviate(OWL + "imports")
    with tempfile.NamedTemporaryFile("wb", suffix=".nt", delete=False) as tmp:
        world.save(tmp, format="ntriples", filter=lambda graph, s, p, o, d: p != imports)
    cmd = [owlready2.JAVA_EXE, f"-Xmx{JAVA_MEMORY}M", "-cp", _HERMIT_CLASSPATH, "org.semanticweb.HermiT.cli.CommandLine", "-k", "-U", "-N", Path(tmp.name).as_uri()]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s)
    except FileNotFoundError:
        raise KgTwinError("REASONER_FAILED", f"Java runtime {owlready2.JAVA_EXE!r} not found", hint="install Java 11+ (HermiT runs on the JVM)") from None
    except subprocess.TimeoutExpired:
        raise KgTwinError("REASONER_TIMEOUT", f"HermiT did not finish within {timeout_s:.0f} s", hint="check fewer modules (--module) or raise --timeout", status=503) from None
    finally:
        os.unlink(tmp.name)
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        if "InconsistentOntologyException" in err or "Inconsistent ontology" in err:
            return False, []
        log.error("HermiT failed:\n%s", err)
        lines = [ln.strip() for ln in err.splitlines() if ln.strip() and not ln.strip().startswith("at ")]
        cause = next((ln for ln in lines if "Exception" in ln or "Error" in ln), lines[-1] if lines else f"exit status {proc.returncode}")
        raise KgTwinError(
            "REASONER_FAILED",
            "HermiT could not run: " + cause[:500],
            hint="an axiom outside OWL 2 DL (named above) or a missing Java runtime (java -version); the full message is in the log",
        )
    consistent = "is satisfiable" in out
    unsat = []
    in_list = False
    for line in out.splitlines():
        if line.startswith("Classes equivalent to"):
            in_list = True
            continue
        if in_list and line.startswith("\t"):
            iri = line.strip()
            if iri != OWL + "Nothing":
                unsat.append(iri)
    return consistent, sorted(unsat)


def _module_iri(m: Module) -> str:
    return m.ontology_iris[0] if m.ontology_iris else m.namespace


def check_consistency(
    modules: Iterable[str] | None = None,
    *,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    timeout_s: float = 900.0,
    extra: Iterable[str | Path] = (),
) -> CheckReport:
    """Run HermiT over the bundle modules (default: the whole bundle) and report consistency.

    ``extra``: more ontology files (Turtle, N-Triples or RDF/XML, by extension) checked together
    with the bundle - a project's own extension, or a candidate alignment.

    Raises :class:`KgTwinError` (``REASONER_FAILED``) when the reasoner cannot run at all.
    """
    owlready2 = _owlready()
    closure = module_closure(modules)
    names = [m.name for m in closure]
    extra_paths = [Path(p) for p in extra]
    for p in extra_paths:
        if not p.is_file():
            raise InputError("FILE_NOT_FOUND", f"ontology file {p} does not exist", hint="pass the path of a Turtle / N-Triples / RDF/XML file")
    key = _cache_key(names, extra_paths)
    cdir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache_file = cdir / f"ontology-check-{key[:24]}.json"
    if use_cache and (hit := _read_cache(cache_file)) is not None:
        return hit
    with _CHECK_LOCK:  # one HermiT run at a time; callers that waited find the cache filled
        if use_cache and (hit := _read_cache(cache_file)) is not None:
            return hit
        return _check(owlready2, closure, extra_paths, key, cdir, cache_file, timeout_s)


_CHECK_LOCK = threading.Lock()


def _read_cache(cache_file: Path) -> CheckReport | None:
    if not cache_file.is_file():
        return None
    try:
        report = CheckReport.from_dict(json.loads(cache_file.read_text()))
    except (ValueError, TypeError, KeyError) as e:
        log.warning("ignoring unreadable check cache %s: %s", cache_file, e)
        return None
    report.cached = True
    return report


def _check(owlready2: Any, closure: list[Module], extra_paths: list[Path], key: str, cdir: Path, cache_file: Path, timeout_s: float) -> CheckReport:
    t0 = time.perf_counter()
    world = owlready2.World()
    checks: list[ModuleCheck] = []
    warnings: list[str] = []
    datatypes: set[str] = set()
    stderr = io.StringIO()
    try:
        from kg_twin.formats import rdf_format_from_path
        from kg_twin.store.convert import convert

        inputs: list[tuple[str, str, str, bytes]] = [(m.name, m.version, _module_iri(m), module_rdf(m.name)) for m in closure]
        for p in extra_paths:
            nt_extra = convert(p, from_format=rdf_format_from_path(str(p)).name, to_format="ntriples", drop_predicates=[OWL + "imports"])
            inputs.append((f"extra:{p.name}", "", p.resolve().as_uri(), nt_extra))
        for name, version, iri, nt in inputs:
            failure = _try_load(owlready2, iri, nt)
            mode, reason = "full", ""
            if failure is not None:
                nt = _skeleton(nt)
                mode, reason = "class-hierarchy extract", f"owlready2 cannot load the full module ({failure[:200]})"
            datatypes |= _datatypes(nt)
            with contextlib.redirect_stderr(stderr):
                world.get_ontology(iri).load(fileobj=io.BytesIO(nt), format="ntriples")
            checks.append(ModuleCheck(name, version, mode, nt.count(b"\n"), reason))
        relaxed = sorted(datatypes - OWL2_DATATYPES)
        if relaxed:
            world.get_ontology("urn:x-kg-twin:datatype-shim").load(fileobj=io.BytesIO(_datatype_shim(relaxed)), format="ntriples")
        consistent, unsat = _run_hermit(owlready2, world, timeout_s)
    finally:
        with contextlib.suppress(Exception):
            world.close()
    for line in stderr.getvalue().splitlines():
        if "WARNING" in line:
            warnings.append(line.replace("* Owlready2 * ", "").strip())
    report = CheckReport(
        consistent=consistent,
        unsatisfiable=unsat,
        modules=checks,
        bundle_hash=key,
        relaxed_datatypes=relaxed,
        warnings=sorted(set(warnings)),
        reasoner=f"HermiT via owlready2 {getattr(owlready2, 'VERSION', '?')}",
        seconds=round(time.perf_counter() - t0, 2),
        cached=False,
        checked_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    try:
        cdir.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(report.to_dict(), indent=2))
        os.replace(tmp, cache_file)
    except OSError as e:
        log.warning("could not write check cache %s: %s", cache_file, e)
    return report
