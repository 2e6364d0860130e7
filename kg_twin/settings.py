"""Service settings: one pydantic-settings class, environment prefix ``KG_TWIN_``.

Every field is documented in ``docs/settings.md`` (a test keeps the two in sync).

>>> s = Settings(data_dir="/tmp/x", query_timeout_s=5)
>>> s.store_path.name
'store'
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KG_TWIN_", env_file=None, extra="ignore")

    data_dir: Path = Field(Path("./twin-data"), description="Directory holding the store, sources, auth database, time series")
    base_iri: str = Field("http://localhost:8000/", description="Base IRI for graphs ({base}graph/...) and minted instances ({base}id/...)")
    host: str = Field("127.0.0.1", description="Address `kg-twin serve` binds to")
    port: int = Field(8000, description="Port `kg-twin serve` listens on")
    query_workers: int = Field(2, ge=1, le=64, description="Worker processes that run SPARQL queries (killable on timeout)")
    query_timeout_s: float = Field(30.0, gt=0, description="Server-wide SPARQL query timeout in seconds; requests may ask for less with ?timeout=")
    validate_timeout_s: float = Field(300.0, gt=0, description="Server-wide time limit of a validation (POST /projects/{p}/validate) in seconds; requests may ask for less with ?timeout=")
    max_rows: int = Field(100_000, ge=1, description="Maximum SELECT rows / CONSTRUCT triples in one response (truncated beyond, with a signal)")
    max_query_bytes: int = Field(1_000_000, ge=1024, description="Maximum size of a SPARQL query or update text")
    max_sparql_depth: int = Field(64, ge=8, le=1000, description="Deepest nesting of { ( [ in any SPARQL text a client sends (queries, updates, SHACL-SPARQL, named queries, rules); the engine's parser crashes the process near 2,200")
    max_nesting_depth: int = Field(256, ge=8, le=2000, description="Deepest nesting of JSON bodies, JSON-LD and RDF/XML documents and YAML (mappings, named-query decorators)")
    max_yaml_nodes: int = Field(100_000, ge=100, description="Most nodes a YAML document from a client may hold once its aliases are expanded")
    max_json_bytes: int = Field(16 * 1024**2, ge=1024, description="Maximum size of a JSON request body (rules, observations, validation requests)")
    max_upload_bytes: int = Field(10 * 1024**3, ge=1024, description="Maximum size of an uploaded RDF file (Graph Store Protocol, load)")
    anonymous_read_all: bool = Field(False, description="Development only: let anonymous callers read every project")
    crs_relations: bool = Field(True, description="GeoSPARQL sf* relations on WKT and GML in any CRS (shapely); false: pyoxigraph's built-in ones (CRS84 WKT only, faster on scans)")
    service_allowlist: list[str] = Field(default_factory=list, description="IRI prefixes of remote SPARQL endpoints that SERVICE may call (empty: SERVICE disabled)")
    store: str = Field("oxigraph", description="Store backend: 'oxigraph' (embedded, on disk), 'memory' (tests) or the URL of a SPARQL 1.1 engine")
    store_query_path: str = Field("query", description="Remote engine: path of the SPARQL query endpoint, relative to KG_TWIN_STORE")
    store_update_path: str = Field("update", description="Remote engine: path of the SPARQL update endpoint")
    store_gsp_path: str = Field("store", description="Remote engine: path of the Graph Store Protocol endpoint")
    timeseries: str = Field("sqlite", description="History of readings: 'sqlite' (embedded file under data_dir/timeseries) or a PostgreSQL URL postgresql://user@host:port/db")
    infer_on_change: bool = Field(True, description="`kg-twin serve`: rebuild a project's inferred graph in the background after each change to its data")
    log_level: str = Field("info", description="Log level of the service")
    # live twin (kg_twin/live, docs/live.md)
    mqtt_url: str | None = Field(None, description="MQTT broker to take readings from, e.g. mqtt://127.0.0.1:1883 (`kg-twin serve --mqtt`); unset: no MQTT")
    mqtt_topic: str = Field("twin/{project}/{point}", description="MQTT topic template of readings; needs the {project} and {point} levels")
    live_flush_s: float = Field(0.25, gt=0, le=0.5, description="Interval (s) at which buffered last-known values are written to the state graphs (one SPARQL update per project)")
    live_notify: bool = Field(False, description="Call change listeners (inference, caches) after each state flush; off: state updates do not trigger inference rebuilds")
    # history (kg_twin/history, docs/history.md)
    history: bool = Field(True, description="Record a version (delta, who, when) of every write to a project's asserted graphs; off: only the present is kept")
    history_keep_versions: int = Field(0, ge=0, description="Retention: keep at most this many versions per project (0: all); older ones are folded into the oldest kept")
    history_keep_days: float = Field(0, ge=0, description="Retention: drop versions older than this many days (0: keep); the newest version is always kept")

    @property
    def store_path(self) -> Path:
        return Path(self.data_dir) / "store"

    @property
    def auth_db_path(self) -> Path:
        return Path(self.data_dir) / "auth.sqlite"

    @property
    def snapshots_path(self) -> Path:
        return Path(self.data_dir) / "snapshots"

    @property
    def sources_path(self) -> Path:
        return Path(self.data_dir) / "sources"


BASE_IRI_FILE = "base-iri"  # in the data dir: the base IRI the store's names were minted with


def with_recorded_base(settings: Settings) -> Settings:
    """``settings`` with the base IRI a data dir's store was created with, unless the base is set
    explicitly (``KG_TWIN_BASE_IRI`` or an argument): the names stored use that base, so a later
    ``kg-twin serve --port N`` on the same data dir keeps it.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / BASE_IRI_FILE).write_text("http://localhost:9000/\\n")
    >>> with_recorded_base(Settings(data_dir=d)).base_iri
    'http://localhost:9000/'
    >>> with_recorded_base(Settings(data_dir=d, base_iri="https://twin.example.org/")).base_iri
    'https://twin.example.org/'
    """
    if "base_iri" in settings.model_fields_set:
        return settings
    recorded = Path(settings.data_dir) / BASE_IRI_FILE
    if recorded.is_file():
        base = recorded.read_text(encoding="utf-8").strip()
        if base:
            return settings.model_copy(update={"base_iri": base})
    return settings


def record_base(settings: Settings) -> None:
    """Write the base IRI into a new data dir (temp file + rename), once."""
    target = Path(settings.data_dir) / BASE_IRI_FILE
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(settings.base_iri + "\n", encoding="utf-8")
    tmp.replace(target)


def served_base(host: str, port: int) -> str:
    """The URL a server bound to ``host:port`` is reached at, as a base IRI (loopback and wildcard
    addresses become ``localhost``).

    >>> served_base("127.0.0.1", 8765), served_base("twin.example.org", 80)
    ('http://localhost:8765/', 'http://twin.example.org:80/')
    """
    name = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::", "::1", "localhost", "") else host
    if ":" in name:
        name = f"[{name}]"
    return f"http://{name}:{port}/"
