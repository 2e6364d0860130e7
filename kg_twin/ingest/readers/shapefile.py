"""ESRI shapefile reader (pyshp, pure Python).

Input: the ``.shp`` path (``.dbf`` required, ``.shx`` / ``.prj`` / ``.cpg`` read when present next to it,
extension case ignored), or a ``.zip`` holding exactly one shapefile set.

* CRS: the ``.prj`` (ESRI or OGC WKT1) is matched to an authority code by PROJ (e.g. BD TOPO's
  "RGF93 / Lambert-93" -> ``EPSG:2154``, confidence 1.0). No ``.prj``: CRS unknown; mapping stops
  with ``UNKNOWN_CRS`` and asks for ``--crs``.
* Text encoding of the ``.dbf``: the ``.cpg`` when present; else the dBase language driver byte;
  else UTF-8, strictly: a decoding error stops the read with ``DBF_ENCODING`` and a hint
  (add a ``.cpg`` such as ``ISO-8859-1``), never a silent guess.
* Values: DBF ``N``/``F`` -> int / float, ``D`` -> ISO date string, ``L`` -> bool, ``C`` -> str.
* Feature ``N`` in origins is the 0-based record number (OGR's FID for shapefiles).
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any, Iterable, Iterator, Union

import shapefile  # pyshp

from kg_twin.errors import InputError
from kg_twin.geo.crs import from_prj
from kg_twin.ingest.base import MapContext, Triple, register
from kg_twin.ingest.mappers.geosparql import map_features, propose_features
from kg_twin.models import Origin, Record, Reject

SHP_MAGIC = b"\x00\x00\x27\x0a"
# dBase language driver ids -> codec (the common ones)
_LDID = {0x01: "cp437", 0x02: "cp850", 0x03: "cp1252", 0x57: "cp1252", 0x58: "cp1252", 0x59: "cp1252",
         0x64: "cp852", 0x65: "cp866", 0x66: "cp865", 0x67: "cp861", 0xC8: "cp1250", 0xC9: "cp1251", 0xCB: "cp1253"}


def _cpg_codec(text: str) -> str:
    t = text.strip().upper().replace("ANSI ", "CP").replace(" ", "")
    if t.isdigit():
        t = f"CP{t}"
    if t in ("UTF8", "65001"):
        t = "UTF-8"
    try:
        return codecs.lookup(t).name
    except LookupError as e:
        raise InputError("DBF_ENCODING", f".cpg names an unknown encoding {text.strip()!r}",
                         hint="write a standard name in the .cpg, e.g. UTF-8, ISO-8859-1 or 1252") from e


class _Set:
    """The member files of one shapefile set as bytes."""

    def __init__(self, name: str, parts: dict[str, bytes]) -> None:
        self.name = name
        self.parts = parts
        self.stem = name.rsplit(".", 1)[0]


def _load_set(path: Path) -> _Set:
    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as e:
            raise InputError("BAD_ZIP", f"{path.name} is not a readable zip archive: {e}", where={"file": path.name}) from e
        with zf:
            shps = [n for n in zf.namelist() if n.lower().endswith(".shp") and not n.startswith("__MACOSX")]
            if len(shps) != 1:
                raise InputError("SHAPEFILE_SET", f"{path.name} holds {len(shps)} .shp files; exactly one is expected",
                                 where={"file": path.name}, hint="zip one layer per archive (.shp, .shx, .dbf, .prj, .cpg)")
            stem = shps[0][:-4]
            parts = {}
            for n in zf.namelist():
                if n[: len(stem)] == stem and n[len(stem):].lower() in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                    parts[n[len(stem):].lower()] = zf.read(n)
            return _Set(Path(shps[0]).name, parts)
    parts = {}
    for sib in path.parent.iterdir():
        if sib.stem == path.stem and sib.suffix.lower() in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            parts[sib.suffix.lower()] = sib.read_bytes()
    return _Set(path.name, parts)


class ShapefileHandler:
    name = "shapefile"
    extensions = (".shp", ".zip")

    def sniff(self, path: Path, head: bytes) -> float:
        if head[:4] == SHP_MAGIC:
            return 0.95
        if head[:4] == b"PK\x03\x04" and path.suffix.lower() == ".zip":
            try:
                with zipfile.ZipFile(path) as zf:
                    return 0.9 if any(n.lower().endswith(".shp") for n in zf.namelist()) else 0.0
            except (zipfile.BadZipFile, OSError):
                return 0.0
        return 0.0

    def read(self, path: Path) -> Iterator[Union[Record, Reject]]:
        path = Path(path)
        s = _load_set(path)
        if ".shp" not in s.parts or ".dbf" not in s.parts:
            missing = [e for e in (".shp", ".dbf") if e not in s.parts]
            raise InputError("SHAPEFILE_SET", f"{s.name}: missing {', '.join(missing)} next to the .shp",
                             where={"file": path.name}, hint="a shapefile needs at least .shp and .dbf (and .prj for its CRS)")
        if ".prj" in s.parts:
            crs = from_prj(s.parts[".prj"].decode("latin-1"))
            crs["reason"] = f"{s.stem}.prj: {crs['reason']}"
        else:
            crs = {"value": None, "confidence": 0.0, "reason": f"no {s.stem}.prj next to the .shp"}
        dbf = s.parts[".dbf"]
        if ".cpg" in s.parts:
            encoding, enc_src = _cpg_codec(s.parts[".cpg"].decode("ascii", "replace")), ".cpg"
        elif len(dbf) > 29 and dbf[29] in _LDID:
            encoding, enc_src = _LDID[dbf[29]], "dBase language driver byte"
        else:
            encoding, enc_src = "utf-8", "default (no .cpg)"
        try:
            reader = shapefile.Reader(
                shp=io.BytesIO(s.parts[".shp"]),
                dbf=io.BytesIO(dbf),
                shx=io.BytesIO(s.parts[".shx"]) if ".shx" in s.parts else None,
                encoding=encoding,
                encodingErrors="strict",
            )
        except shapefile.ShapefileException as e:
            raise InputError("BAD_SHAPEFILE", f"{s.name}: {e}", where={"file": path.name}) from e
        layer = s.stem
        fname = path.name if path.suffix.lower() == ".zip" else s.name
        with reader:
            names = [f[0] for f in reader.fields[1:]]
            i = -1
            it = reader.iterShapeRecords()
            while True:
                i += 1
                try:
                    sr = next(it)
                except StopIteration:
                    break
                except UnicodeDecodeError as e:
                    raise InputError("DBF_ENCODING", f"{s.name}: attribute text is not {encoding} ({enc_src}): {e}",
                                     where={"file": fname, "feature": i},
                                     hint=f"add {s.stem}.cpg naming the encoding (e.g. ISO-8859-1 or 1252)") from e
                except (shapefile.ShapefileException, ValueError, IndexError) as e:
                    yield Reject(origin=Origin(file=fname, feature=str(i)), code="BAD_SHAPE", reason=f"unreadable record: {e}")
                    continue
                props: dict[str, Any] = {}
                for k, v in zip(names, sr.record):
                    if isinstance(v, (dt.date, dt.datetime)):
                        v = v.isoformat()
                    elif isinstance(v, bytes):
                        v = v.decode(encoding, "strict")
                    props[k] = v
                shp = sr.shape
                geom = None if shp.shapeType == shapefile.NULL else shp.__geo_interface__
                yield Record(
                    kind="feature",
                    fields={"layer": layer, "crs": crs, "geometry": geom, "properties": props},
                    origin=Origin(file=fname, feature=str(i)),
                )

    def propose(self, records: list[Record], ctx: MapContext) -> dict[str, Any]:
        return propose_features(records, ctx, self.name)

    def map(self, records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]:
        return map_features(records, mapping, ctx)


HANDLER = register(ShapefileHandler())
