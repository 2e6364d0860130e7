"""OGC GeoPackage reader (SQLite, read with the standard library; no GDAL).

Every feature table of ``gpkg_contents`` is read (or only ``layer`` when given, e.g. from a mapping's
``read: {layer: BATIMENT}`` section); one feature record per row, with ``layer`` set, so the
proposal holds one mapping per layer (see :func:`kg_twin.ingest.mappers.geosparql.propose_features`).

* Geometry: the GeoPackage binary header (``GP``, flags, srs_id, envelope) is skipped and the
  WKB body decoded with shapely; an empty-geometry flag gives no geometry (the mapper rejects it).
* CRS: ``gpkg_spatial_ref_sys`` of the layer's ``srs_id``: ``EPSG:<code>`` when the organization is
  EPSG, else its WKT definition; the undefined systems (srs_id -1 and 0) leave the CRS unknown, so
  mapping asks for ``--crs``.
* Values: SQLite's own types (INTEGER -> int, REAL -> float, TEXT -> str); columns declared BOOLEAN
  become bool; DATE / DATETIME stay ISO text (the profiler types them); BLOB columns are skipped.
* Feature ``N`` in origins is ``<layer>/<primary key>``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Iterator, Union

import shapely
from shapely.geometry import mapping as geojson_of

from kg_twin.errors import InputError
from kg_twin.geo.crs import from_prj
from kg_twin.ingest.base import register
from kg_twin.ingest.mappers.geosparql import FeatureMapping
from kg_twin.models import Origin, Record, Reject

SQLITE_MAGIC = b"SQLite format 3\x00"
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def decode_geometry(blob: bytes | None) -> Any:
    """GeoPackage binary geometry -> shapely geometry (None when empty or NULL).

    >>> import shapely
    >>> wkb = shapely.to_wkb(shapely.Point(1, 2))
    >>> decode_geometry(b"GP\\x00\\x01" + (4326).to_bytes(4, "little") + wkb).wkt
    'POINT (1 2)'
    """
    if blob is None:
        return None
    b = bytes(blob)
    if len(b) < 8 or b[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry (no 'GP' header)")
    flags = b[3]
    if flags & 0x20:
        raise ValueError("extended GeoPackage geometry types are not supported")
    env = _ENVELOPE_BYTES.get((flags >> 1) & 0x07)
    if env is None:
        raise ValueError(f"invalid envelope code {(flags >> 1) & 0x07}")
    if flags & 0x10:
        return None
    return shapely.from_wkb(b[8 + env :])


def _crs(con: sqlite3.Connection, srs_id: int, layer: str) -> dict[str, Any]:
    if srs_id in (-1, 0):
        return {"value": None, "confidence": 0.0, "reason": f"layer {layer} uses the undefined spatial reference system (srs_id {srs_id})"}
    row = con.execute(
        "SELECT srs_name, organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?", (srs_id,)
    ).fetchone()
    if row is None:
        return {"value": None, "confidence": 0.0, "reason": f"srs_id {srs_id} of layer {layer} is not in gpkg_spatial_ref_sys"}
    name, org, code, definition = row
    if str(org).upper() == "EPSG" and code is not None:
        return {"value": f"EPSG:{int(code)}", "confidence": 1.0, "reason": f"gpkg_spatial_ref_sys: {name} (EPSG:{int(code)})"}
    if definition and str(definition).strip().lower() != "undefined":
        out = from_prj(str(definition))
        out["reason"] = f"gpkg_spatial_ref_sys definition of {name}: {out['reason']}"
        return out
    return {"value": None, "confidence": 0.0, "reason": f"srs {name} ({org}:{code}) has no usable definition"}


class GeoPackageHandler(FeatureMapping):
    name = "geopackage"
    extensions = (".gpkg",)

    def sniff(self, path: Path, head: bytes) -> float:
        if head[:16] != SQLITE_MAGIC:
            return 0.0
        if head[68:72] in (b"GPKG", b"GP10", b"GP11"):
            return 0.97
        return 0.9 if Path(path).suffix.lower() == ".gpkg" else 0.0

    def read(self, path: Path, layer: str | None = None) -> Iterator[Union[Record, Reject]]:
        path = Path(path)
        try:
            con = sqlite3.connect(f"file:{path.resolve()}?mode=ro&immutable=1", uri=True)
            layers = con.execute(
                "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c "
                "JOIN gpkg_geometry_columns g ON g.table_name = c.table_name "
                "WHERE c.data_type = 'features' ORDER BY c.table_name"
            ).fetchall()
        except sqlite3.DatabaseError as e:
            raise InputError("BAD_GEOPACKAGE", f"{path.name} is not a readable GeoPackage: {e}", where={"file": path.name},
                             hint="a GeoPackage is an SQLite file with gpkg_contents and gpkg_geometry_columns tables") from e
        try:
            names = [t for t, _, _ in layers]
            if layer is not None:
                if layer not in names:
                    raise InputError("GPKG_LAYER", f"{path.name} has no feature layer {layer!r}", where={"file": path.name},
                                     hint=f"feature layers: {', '.join(names) or '(none)'}")
                layers = [x for x in layers if x[0] == layer]
            if not layers:
                raise InputError("NO_FEATURES", f"{path.name} has no feature layer", where={"file": path.name},
                                 hint="gpkg_contents lists no table with data_type 'features'")
            for table, geom_col, srs_id in layers:
                yield from self._layer(con, path.name, table, geom_col, int(srs_id))
        finally:
            con.close()

    def _layer(self, con: sqlite3.Connection, fname: str, table: str, geom_col: str, srs_id: int) -> Iterator[Union[Record, Reject]]:
        crs = _crs(con, srs_id, table)
        info = con.execute(f"PRAGMA table_info({_q(table)})").fetchall()
        pk = next((c[1] for c in info if c[5]), None)
        cols = [(c[1], str(c[2] or "").upper()) for c in info if c[1] not in (geom_col, pk) and str(c[2] or "").upper() != "BLOB"]
        select = ", ".join([_q(pk) if pk else "rowid", _q(geom_col)] + [_q(c) for c, _ in cols])
        for row in con.execute(f"SELECT {select} FROM {_q(table)} ORDER BY 1"):
            origin = Origin(file=fname, feature=f"{table}/{row[0]}")
            try:
                g = decode_geometry(row[1])
            except (ValueError, shapely.errors.GEOSException) as e:
                yield Reject(origin=origin, code="BAD_GEOMETRY", reason=f"geometry blob cannot be decoded: {e}")
                continue
            props: dict[str, Any] = {}
            for (c, decl), v in zip(cols, row[2:]):
                if decl == "BOOLEAN" and v is not None:
                    v = bool(v)
                props[c] = v
            yield Record(
                kind="feature",
                fields={"layer": table, "crs": crs, "geometry": geojson_of(g) if g is not None and not g.is_empty else None,
                        "properties": props},
                origin=origin,
            )


HANDLER = register(GeoPackageHandler())
