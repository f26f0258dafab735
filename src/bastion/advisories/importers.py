"""Vulnerability intelligence importers, by name, with format detection.

    osv    OSV records: one JSON record, a JSON list, a folder of them, a zip dump
    cve5   CVE JSON 5 records (CVE_RECORD), one per file, or a folder of them
    kev    the CISA Known Exploited Vulnerabilities catalogue (JSON)
    epss   FIRST EPSS scores (CSV, optionally gzipped)

``read_intel(path)`` and ``parse_intel(data, name)`` detect the format; each
parser is listed in ``INTEL_FORMATS`` under its name.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from bastion.advisories.packages import cpe_key, normalise_name, osv_ecosystem, parse_cpe
from bastion.advisories.vulns import (
    AffectedRange,
    Cvss,
    EpssScore,
    ImportResult,
    Kev,
    VulnRecord,
    score_cvss,
)
from bastion.core.documents import MAX_BYTES, as_list, as_object, as_objects, as_text, load_json
from bastion.core.errors import FormatError, InputError, LimitExceeded, Location
from bastion.core.registry import Registry


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _severity_of(cvss: tuple[Cvss, ...], fallback: Any = None) -> str | None:
    scored = [c for c in cvss if c.severity]
    if scored:
        return max(scored, key=lambda c: c.version).severity
    return str(fallback).lower() if isinstance(fallback, str) and fallback else None


# --- OSV ---------------------------------------------------------------------------


def _osv_ranges(eco: str, pkg: str, affected: dict[str, Any]) -> list[AffectedRange]:
    out: list[AffectedRange] = []
    for rng in as_objects(affected.get("ranges")):
        if rng.get("type") == "GIT":
            continue  # commit ranges say nothing about released versions
        lo: str | None = None
        open_interval = False
        for event in as_objects(rng.get("events")):
            if "introduced" in event:
                intro = str(event["introduced"])
                lo = None if intro in {"0", ""} else intro
                open_interval = True
            elif "fixed" in event and open_interval:
                out.append(AffectedRange(eco, pkg, lo, True, str(event["fixed"]), False))
                open_interval = False
            elif "last_affected" in event and open_interval:
                out.append(AffectedRange(eco, pkg, lo, True, str(event["last_affected"]), True))
                open_interval = False
            elif "limit" in event and open_interval:
                out.append(AffectedRange(eco, pkg, lo, True, str(event["limit"]), False))
                open_interval = False
        if open_interval:
            out.append(AffectedRange(eco, pkg, lo, True, None, False))
    for version in as_list(affected.get("versions")):
        text = str(version)
        if not any(r.lo == text == r.hi for r in out):
            out.append(AffectedRange(eco, pkg, text, True, text, True))
    return list(dict.fromkeys(out))


def parse_osv_record(doc: Any, where: str = "") -> VulnRecord:
    """Parse one OSV record (schema 1.x); raise FormatError naming what is missing."""
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
        msg = "not an OSV record: expected an object with an 'id'"
        raise FormatError(msg, Location(file=where or None, field="id"))
    cvss = tuple(
        score_cvss(str(s.get("score", "")))
        for s in as_objects(doc.get("severity"))
        if str(s.get("type", "")).startswith("CVSS")
    )
    affected: list[AffectedRange] = []
    for entry in as_objects(doc.get("affected")):
        package = as_object(entry.get("package"))
        if not package.get("name"):
            continue
        eco = osv_ecosystem(str(package.get("ecosystem", "")))
        affected.extend(_osv_ranges(eco, normalise_name(eco, str(package["name"])), entry))
    specific = doc.get("database_specific") or {}
    return VulnRecord(
        id=doc["id"],
        source="osv",
        aliases=tuple(str(a) for a in as_list(doc.get("aliases")) if a),
        summary=str(doc.get("summary") or ""),
        details=str(doc.get("details") or ""),
        published=_time(doc.get("published")),
        modified=_time(doc.get("modified")),
        cvss=cvss,
        severity=_severity_of(
            cvss, specific.get("severity") if isinstance(specific, dict) else None
        ),
        affected=tuple(affected),
        references=tuple(str(r["url"]) for r in as_objects(doc.get("references")) if r.get("url")),
    )


# --- CVE JSON 5 --------------------------------------------------------------------


def _cve5_versions(key: str, entry: dict[str, Any]) -> list[AffectedRange]:
    out = []
    for item in as_objects(entry.get("versions")):
        if item.get("status") != "affected":
            continue
        version = str(item.get("version") or "").strip()
        lo = None if version in {"", "0", "*", "unspecified", "n/a"} else version
        if item.get("lessThan"):
            hi = str(item["lessThan"])
            out.append(AffectedRange("cpe", key, lo, True, None if hi == "*" else hi, False))
        elif item.get("lessThanOrEqual"):
            hi = str(item["lessThanOrEqual"])
            out.append(AffectedRange("cpe", key, lo, True, None if hi == "*" else hi, True))
        elif lo is not None:
            out.append(AffectedRange("cpe", key, lo, True, lo, True))
    if not out and entry.get("defaultStatus") == "affected":
        out.append(AffectedRange("cpe", key, precision="product"))
    return out


def _cpe_match(match: dict[str, Any]) -> AffectedRange | None:
    if not match.get("vulnerable", True):
        return None
    try:
        cpe = parse_cpe(str(match.get("criteria", "")))
    except InputError:
        return None
    bounds = {
        k: str(match[k])
        for k in (
            "versionStartIncluding",
            "versionStartExcluding",
            "versionEndIncluding",
            "versionEndExcluding",
        )
        if match.get(k)
    }
    if cpe.version is not None and not bounds:
        return AffectedRange("cpe", cpe.key, cpe.version, True, cpe.version, True)
    lo = bounds.get("versionStartIncluding") or bounds.get("versionStartExcluding")
    hi = bounds.get("versionEndIncluding") or bounds.get("versionEndExcluding")
    return AffectedRange(
        "cpe",
        cpe.key,
        lo,
        "versionStartExcluding" not in bounds,
        hi,
        "versionEndIncluding" in bounds,
    )


def parse_cve5_record(doc: Any, where: str = "") -> VulnRecord:
    """Parse a CVE JSON 5 record: CNA and ADP affected products, CPE applicability, CVSS."""
    meta = doc.get("cveMetadata") if isinstance(doc, dict) else None
    if not isinstance(meta, dict) or not isinstance(meta.get("cveId"), str):
        msg = "not a CVE JSON 5 record: expected cveMetadata.cveId"
        raise FormatError(msg, Location(file=where or None, field="cveMetadata.cveId"))
    containers = as_object(doc.get("containers"))
    cna = as_object(containers.get("cna"))
    every = [cna, *as_objects(containers.get("adp"))]
    affected: list[AffectedRange] = []
    vectors: list[str] = []
    for container in every:
        for entry in as_objects(container.get("affected")):
            vendor, product = as_text(entry.get("vendor")), as_text(entry.get("product"))
            if vendor and product and vendor != "n/a":
                affected.extend(_cve5_versions(cpe_key(vendor, product), entry))
            for cpe_text in as_list(entry.get("cpes")):
                try:
                    cpe = parse_cpe(str(cpe_text))
                except InputError:
                    continue
                if cpe.version is not None:
                    affected.append(
                        AffectedRange("cpe", cpe.key, cpe.version, True, cpe.version, True)
                    )
        for applicability in as_objects(container.get("cpeApplicability")):
            for node in as_objects(applicability.get("nodes")):
                if node.get("negate"):
                    continue
                for match in as_objects(node.get("cpeMatch")):
                    rng = _cpe_match(match)
                    if rng is not None:
                        affected.append(rng)
        for metric in as_objects(container.get("metrics")):
            for name in ("cvssV4_0", "cvssV3_1", "cvssV3_0"):
                if isinstance(metric.get(name), dict) and metric[name].get("vectorString"):
                    vector = str(metric[name]["vectorString"])
                    if name == "cvssV3_0" and not vector.startswith("CVSS:"):
                        vector = f"CVSS:3.0/{vector}"
                    vectors.append(vector)
    cvss = tuple(score_cvss(v) for v in dict.fromkeys(vectors))
    descriptions = as_objects(cna.get("descriptions"))
    english = [
        str(d.get("value", "")) for d in descriptions if str(d.get("lang", "")).startswith("en")
    ]
    return VulnRecord(
        id=meta["cveId"],
        source="cve5",
        summary=str(cna.get("title") or (english[0][:200] if english else "")),
        details=english[0] if english else "",
        published=_time(meta.get("datePublished")),
        modified=_time(meta.get("dateUpdated")),
        cvss=cvss,
        severity=_severity_of(cvss),
        affected=tuple(dict.fromkeys(affected)),
        references=tuple(str(r["url"]) for r in as_objects(cna.get("references")) if r.get("url")),
    )


# --- CISA KEV ----------------------------------------------------------------------


def parse_kev(doc: Any, where: str = "") -> list[VulnRecord]:
    """Parse the KEV catalogue: one record per CVE, affected at product level."""
    if not isinstance(doc, dict) or not isinstance(doc.get("vulnerabilities"), list):
        msg = "not a KEV catalogue: expected an object with a 'vulnerabilities' list"
        raise FormatError(msg, Location(file=where or None, field="vulnerabilities"))
    out = []
    for number, entry in enumerate(doc["vulnerabilities"]):
        cve = entry.get("cveID") if isinstance(entry, dict) else None
        if not isinstance(cve, str) or not cve:
            msg = "KEV entry without a cveID"
            raise FormatError(msg, Location(file=where or None, field=f"vulnerabilities[{number}]"))
        vendor, product = str(entry.get("vendorProject", "")), str(entry.get("product", ""))
        ransomware = str(entry.get("knownRansomwareCampaignUse", "")).lower()
        out.append(
            VulnRecord(
                id=cve,
                source="kev",
                summary=str(entry.get("vulnerabilityName") or ""),
                details=str(entry.get("shortDescription") or ""),
                published=None,
                affected=(
                    (AffectedRange("cpe", cpe_key(vendor, product), precision="product"),)
                    if vendor and product
                    else ()
                ),
                kev=Kev(
                    vendor=vendor,
                    product=product,
                    name=str(entry.get("vulnerabilityName") or ""),
                    date_added=_day(entry.get("dateAdded")),
                    due_date=_day(entry.get("dueDate")),
                    ransomware={"known": True, "unknown": None}.get(ransomware, False),
                    required_action=str(entry.get("requiredAction") or ""),
                ),
            )
        )
    return out


# --- EPSS --------------------------------------------------------------------------


def parse_epss(data: bytes, where: str = "") -> list[EpssScore]:
    """Parse a FIRST EPSS CSV (``#model_version:…,score_date:…`` then cve,epss,percentile)."""
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, where)
    text = data.decode("utf-8-sig", errors="replace")
    first, _, rest = text.partition("\n")
    score_date = None
    if first.startswith("#"):
        for part in first.lstrip("#").split(","):
            name, _, value = part.partition(":")
            if name.strip() == "score_date":
                score_date = _day(value.strip())
        text = rest
    try:
        frame = pl.read_csv(io.StringIO(text), schema_overrides={"cve": pl.String})
    except (pl.exceptions.PolarsError, ValueError) as exc:
        msg = f"not an EPSS CSV: {exc}"
        raise FormatError(msg, Location(file=where or None)) from None
    missing = {"cve", "epss", "percentile"} - set(frame.columns)
    if missing:
        msg = f"not an EPSS CSV: missing column(s) {', '.join(sorted(missing))}"
        raise FormatError(msg, Location(file=where or None, line=1))
    frame = frame.select(
        pl.col("cve").str.strip_chars(),
        pl.col("epss").cast(pl.Float64, strict=False),
        pl.col("percentile").cast(pl.Float64, strict=False),
    )
    bad = frame.with_row_index("row").filter(
        pl.col("epss").is_null()
        | pl.col("percentile").is_null()
        | ~pl.col("cve").str.contains(r"^CVE-\d{4}-\d+$")
    )
    if not bad.is_empty():
        row = int(bad["row"][0]) + 2 + (1 if score_date else 0)
        msg = "EPSS row with an invalid CVE id or score"
        raise FormatError(msg, Location(file=where or None, line=row))
    return [
        EpssScore(c, p, q, score_date)
        for c, p, q in zip(frame["cve"], frame["epss"], frame["percentile"], strict=True)
    ]


# --- detection ---------------------------------------------------------------------


def _json(data: bytes, where: str) -> Any:
    return load_json(data, where=where)


def detect_json(doc: Any) -> str | None:
    """Name the intelligence format of a parsed JSON document, or None."""
    if isinstance(doc, list):
        return "osv" if doc and all(isinstance(d, dict) and "id" in d for d in doc) else None
    if not isinstance(doc, dict):
        return None
    if "catalogVersion" in doc and isinstance(doc.get("vulnerabilities"), list):
        return "kev"
    if doc.get("dataType") == "CVE_RECORD" or "cveMetadata" in doc:
        return "cve5"
    if isinstance(doc.get("id"), str) and ("affected" in doc or "modified" in doc):
        return "osv"
    return None


def _parse_json_doc(doc: Any, where: str, fmt: str | None) -> ImportResult:
    kind = fmt or detect_json(doc)
    if kind == "kev":
        return ImportResult("kev", parse_kev(doc, where))
    if kind == "cve5":
        return ImportResult("cve5", [parse_cve5_record(doc, where)])
    if kind == "osv":
        docs = doc if isinstance(doc, list) else [doc]
        return ImportResult("osv", [parse_osv_record(d, where) for d in docs])
    msg = "unrecognised intelligence JSON: expected an OSV record, a CVE JSON 5 record or the KEV catalogue"
    raise FormatError(msg, Location(file=where or None))


def parse_intel(data: bytes, name: str = "", fmt: str | None = None) -> ImportResult:
    """Parse one file's bytes, detecting its format from its content (and name)."""
    if fmt is not None:
        INTEL_FORMATS.get(fmt)  # an unknown name is refused, naming the formats
    if fmt == "epss" or (fmt is None and _looks_like_epss(data, name)):
        return ImportResult("epss", epss=parse_epss(data, name))
    if data[:4] == b"PK\x03\x04":
        return _parse_zip(data, name, fmt)
    if data[:2] == b"\x1f\x8b":
        return parse_intel(_gunzip(data, name), name.removesuffix(".gz"), fmt)
    return _parse_json_doc(_json(data, name), name, fmt)


def _gunzip(data: bytes, name: str, limit: int = MAX_BYTES) -> bytes:
    """Decompress gzip ``data``; raise LimitExceeded when it holds more than ``limit`` bytes."""
    inflate = zlib.decompressobj(wbits=31)
    try:
        out = inflate.decompress(data, limit + 1)
    except zlib.error as exc:
        msg = f"not valid gzip: {exc}"
        raise FormatError(msg, Location(file=name or None)) from None
    if len(out) > limit:
        msg = f"decompresses to more than {limit:,} bytes; Bastion reads at most that"
        raise LimitExceeded(msg, Location(file=name or None))
    return out


def _looks_like_epss(data: bytes, name: str) -> bool:
    if data[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(wbits=31).decompress(data, 200)
        except zlib.error:
            return False
    else:
        head = data[:200]
    return head.startswith(b"#model_version") or head.lower().startswith(b"cve,epss")


def _merge(results: list[ImportResult], fmt: str) -> ImportResult:
    merged = ImportResult(fmt)
    for result in results:
        merged.records.extend(result.records)
        merged.epss.extend(result.epss)
        merged.warnings.extend(result.warnings)
    return merged


def _parse_zip(data: bytes, name: str, fmt: str | None) -> ImportResult:
    results = []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        msg = f"not a valid zip file: {exc}"
        raise FormatError(msg, Location(file=name or None)) from None
    with archive:
        for member in sorted(archive.namelist()):
            if not member.endswith(".json"):
                continue
            where = f"{name}!{member}"
            if archive.getinfo(member).file_size > MAX_BYTES:
                msg = f"decompresses to more than {MAX_BYTES:,} bytes; Bastion reads at most that"
                raise LimitExceeded(msg, Location(file=where))
            try:
                content = archive.read(member)
            except (zipfile.BadZipFile, zlib.error, NotImplementedError) as exc:
                msg = f"cannot read the zip member: {exc}"
                raise FormatError(msg, Location(file=where)) from None
            results.append(parse_intel(content, where, fmt))
    if not results:
        msg = "zip file holds no .json records"
        raise FormatError(msg, Location(file=name or None))
    return _merge(results, results[0].format)


def read_intel(path: Path, fmt: str | None = None) -> ImportResult:
    """Read a file or a folder of records (recursively, *.json), detecting the format."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file())
        if not files:
            msg = "folder holds no .json records"
            raise InputError(msg, Location(file=str(path)))
        results = [parse_intel(p.read_bytes(), str(p), fmt) for p in files]
        return _merge(results, results[0].format)
    if not path.is_file():
        msg = "no such file or folder"
        raise InputError(msg, Location(file=str(path)))
    return parse_intel(path.read_bytes(), str(path), fmt)


INTEL_FORMATS: Registry[Callable[..., Any]] = Registry(
    "intelligence format",
    (
        ("osv", parse_osv_record),
        ("cve5", parse_cve5_record),
        ("kev", parse_kev),
        ("epss", parse_epss),
    ),
)
"""Every intelligence format by name: what a feed's configuration and ``--format`` name."""
