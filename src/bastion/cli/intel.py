"""`bastion intel`: threat indicators — import feeds, list and show what is listed."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bastion.cli import intel_blocklists, intel_feeds
from bastion.cli.context import (
    actor,
    cli_session,
    command_group,
    day,
    in_session,
    limit_option,
    settings,
)
from bastion.cli.intel_feeds import parse_options
from bastion.cli.output import (
    CSV_OPTION,
    JSON_OPTION,
    Column,
    fields,
    print_json,
    print_record,
    print_rows,
)
from bastion.core.errors import InputError, Location

if TYPE_CHECKING:
    from bastion.intel import Indicator, Sighting

app = command_group("Manage threat indicators and the feeds they come from.")


def _plain(indicator: Indicator) -> dict[str, Any]:
    return {"id": indicator.id, **dataclasses.asdict(indicator)}


INDICATOR_COLUMNS: list[Column[Indicator]] = [
    *fields("type", "value", "source", "severity", "confidence=CONF", "action", "threat"),
    ("VALID UNTIL", lambda i: day(i.valid_until)),
]


def __getattr__(name: str) -> Any:
    """Build ``FORMATS`` from the file-format registry only when asked: it loads Polars."""
    if name == "FORMATS":
        from bastion.intel import feeds

        return ("auto", *feeds.FILE_FORMATS)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


@app.command("import")
def import_(
    file: Path = typer.Argument(
        help="indicators: Bastion CSV/JSON, a STIX bundle, a MISP event, a list"
    ),
    source: str | None = typer.Option(
        None, "--source", "-s", help="source of rows that name none (default: the file's name)"
    ),
    fmt: str = typer.Option(
        "auto",
        "--format",
        "-f",
        help="file format (default: detected); an unknown one is refused with the list",
    ),
    option: list[str] = typer.Option(
        [], "--option", "-o", help="feed option key=value (csv: column=…; tlp=, confidence= …)"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import indicators from a file; the format is detected unless given.

    Bastion CSV/JSON is all or nothing; a STIX bundle, MISP event or list keeps the
    good objects and reports the bad ones it skipped.
    """
    from bastion import intel
    from bastion.intel import feeds

    formats = ("auto", *feeds.FILE_FORMATS)
    if fmt not in formats:
        msg = f"unknown format {fmt!r}; choose one of {', '.join(formats)}"
        raise InputError(msg)
    if fmt == "auto":
        try:
            head = file.read_bytes()[:65536]
        except OSError as exc:
            msg = f"cannot read file: {exc}"
            raise InputError(msg, Location(str(file))) from None
        fmt = feeds.detect_file_format(file, head)
    problems: list[str] = []
    skipped = 0
    if fmt.startswith("bastion-"):
        found = intel.load_indicator_file(file, source=source)
    else:
        parsed = feeds.read_file(
            file, fmt, feeds.FeedOptions.from_mapping(source or file.stem, parse_options(option))
        )
        found, problems, skipped = parsed.indicators, parsed.problems, parsed.skipped
    stats = in_session(
        intel.store_listings,
        found,
        actor=actor(),
        reason=f"imported from {file.name}",
        target=f"file:{file.name}",
    )
    created, updated = stats.created, stats.changed + stats.unchanged
    by_type = dict(sorted(Counter(i.type.value for i in found).items()))
    report: dict[str, Any] = {
        "file": file,
        "read": len(found),
        "created": created,
        "updated": updated,
    }
    if not fmt.startswith("bastion-"):
        report |= {"format": fmt, "skipped": skipped, "problems": problems}
    kinds = ", ".join(f"{n} {t}" for t, n in by_type.items()) or "none"
    print_record(
        {**report, "by_type": by_type},
        lambda _: [f"imported {file}: {created} created, {updated} updated ({kinds})"],
        as_json=as_json,
        footer="\n".join([f"skipped {skipped} bad object(s):", *(f"  {p}" for p in problems)])
        if skipped
        else None,
    )


@app.command("list")
def list_(
    type: str | None = typer.Option(
        None, "--type", "-t", help="only this type: ipv4, ipv6, cidr, domain, url, url_pattern …"
    ),
    search: str | None = typer.Option(
        None, "--search", "-s", help="part of the value, threat or source"
    ),
    limit: int | None = limit_option(50),
    offset: int = typer.Option(0, "--offset", min=0, help="skip this many first"),
    as_json: bool = JSON_OPTION,
    as_csv: bool = CSV_OPTION,
) -> None:
    """List (search) indicators, by type and value."""
    from bastion import intel

    found, total = in_session(
        intel.list_indicators, type=type, search=search, limit=limit, offset=offset
    )
    print_rows(
        found,
        INDICATOR_COLUMNS,
        as_json,
        as_csv,
        data=[_plain(i) for i in found],
        total=total,
        noun="indicators",
    )


@app.command("show")
def show(
    indicator_id: str = typer.Argument(help="type:value, e.g. domain:evil.example"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show an indicator: every source's listing, its sightings and its change log."""
    from bastion import intel

    with cli_session() as session:
        found = intel.get_indicator(session, indicator_id)
        first = found[0]
        sightings = intel.list_sightings(session, first.id)
        changes = intel.indicator_changes(session, first.type, first.value)
    shown = {"id": first.id, "listings": found, "sightings": sightings, "changes": changes}
    print_record(
        shown,
        _indicator_lines,
        as_json=as_json,
        data={**shown, "listings": [_plain(i) for i in found]},
    )


def _indicator_lines(shown: dict[str, Any]) -> Iterator[str]:
    yield shown["id"]
    for i in shown["listings"]:
        threat = f"  threat: {i.threat}" if i.threat else ""
        until = f"  valid until {day(i.valid_until)}" if i.valid_until else ""
        yield (
            f"  {i.source}: {i.severity.value}, confidence {i.confidence}, {i.action.value}, "
            f"TLP:{i.tlp.value}{threat}{until}"
        )
    if shown["sightings"]:
        yield f"seen at {len(shown['sightings'])} organisation(s):"
        for s in shown["sightings"]:
            yield f"  {s.org}: {s.count} time(s), {day(s.first_seen)} to {day(s.last_seen)}"
    for c in shown["changes"]:
        yield f"  {c.at:%Y-%m-%d %H:%M} {c.change} ({c.source}): {c.reason}"


@app.command("expire")
def expire(
    indicator_id: str = typer.Argument(help="type:value, e.g. domain:evil.example"),
    reason: str = typer.Option(..., "--reason", "-r", help="why it no longer applies"),
    source: str | None = typer.Option(None, "--source", "-s", help="only this source's listing"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Expire an indicator now (every source's listing, or one)."""
    from bastion import intel

    count = in_session(
        intel.expire_indicator,
        indicator_id,
        actor=actor(),
        reason=reason,
        now=datetime.now(UTC),
        source=source,
    )
    print_record(
        {"id": indicator_id, "expired": count},
        lambda _: [f"expired {count} listing(s) of {indicator_id}"],
        as_json=as_json,
    )


@app.command("sightings")
def sightings(
    indicator_id: str | None = typer.Argument(None, help="type:value; default: every indicator"),
    days: int = typer.Option(7, "--days", min=1, help="seen in the last N days (default 7)"),
    stix: bool = typer.Option(False, "--stix", help="print a STIX 2.1 bundle of sightings"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List sightings, or how many organisations each indicator hit in the last N days."""
    from bastion import intel

    since = datetime.now(UTC) - timedelta(days=days)
    found = in_session(intel.list_sightings, indicator_id, since=since)
    if stix:
        print_json(intel.sightings_bundle(found))
        return
    hit = Counter(s.indicator for s in found)
    per_indicator = [[s for s in found if s.indicator == i] for i, _ in hit.most_common()]
    print_rows(per_indicator, SIGHTING_COLUMNS, as_json=as_json, data=found)


SIGHTING_COLUMNS: list[Column[list[Sighting]]] = [
    ("INDICATOR", lambda seen: seen[0].indicator),
    ("ORGS", len),
    ("EVENTS", lambda seen: sum(s.count for s in seen)),
    ("LAST SEEN", lambda seen: day(max(s.last_seen for s in seen))),
]


@app.command("retrohunt")
def retrohunt(
    days: int = typer.Option(30, "--days", min=1, help="search the last N days (default 30)"),
    everything: bool = typer.Option(
        False, "--all", help="hunt every active indicator, not only those new since the last run"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Search the archive for indicators new since the last retro-hunt; raise retrospective alerts."""
    from bastion.boundary.retrohunt import retrohunt as run_retrohunt

    report = in_session(
        run_retrohunt,
        settings().archive_dir,
        days=days,
        now=datetime.now(UTC),
        everything=everything,
    )
    print_record(
        report,
        lambda r: [
            f"hunted {r.indicators} indicator(s) over {days} days: {r.events} past event(s) "
            f"matched, {r.alerts} retrospective alert(s) raised, {r.already_alerted} already alerted"
        ],
        as_json=as_json,
    )


app.add_typer(intel_feeds.feeds_app, name="feeds")
app.add_typer(intel_feeds.allow_app, name="allow")
app.add_typer(intel_blocklists.policies_app, name="policies")
app.add_typer(intel_blocklists.devices_app, name="devices")
