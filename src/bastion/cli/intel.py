"""`bastion intel`: threat indicators — import feeds, list and show what is listed."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from bastion import intel
from bastion.audit import Actor
from bastion.boundary.retrohunt import retrohunt as run_retrohunt
from bastion.cli import intel_blocklists, intel_feeds
from bastion.cli.context import JSON_OPTION, print_json, print_table, settings, store
from bastion.cli.intel_feeds import parse_options
from bastion.core.errors import InputError, Location
from bastion.intel import feeds

app = typer.Typer(
    help="Manage threat indicators and the feeds they come from.", no_args_is_help=True
)


def _plain(indicator: intel.Indicator) -> dict[str, Any]:
    return {"id": indicator.id, **dataclasses.asdict(indicator)}


def _day(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d")


FORMATS = ("auto", *feeds.FILE_FORMATS)


@app.command("import")
def import_(
    file: Path = typer.Argument(
        help="indicators: Bastion CSV/JSON, a STIX bundle, a MISP event, a list"
    ),
    source: str | None = typer.Option(
        None, "--source", "-s", help="source of rows that name none (default: the file's name)"
    ),
    fmt: str = typer.Option(
        "auto", "--format", "-f", help=f"one of {', '.join(FORMATS)} (default: detected)"
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
    if fmt not in FORMATS:
        msg = f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}"
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
    with store().session() as session:
        stats = intel.store_listings(
            session,
            found,
            actor=Actor.cli(),
            reason=f"imported from {file.name}",
            target=f"file:{file.name}",
        )
    created, updated = stats.created, stats.changed + stats.unchanged
    by_type = dict(sorted(Counter(i.type.value for i in found).items()))
    if as_json:
        report: dict[str, Any] = {
            "file": file,
            "read": len(found),
            "created": created,
            "updated": updated,
        }
        if not fmt.startswith("bastion-"):
            report |= {"format": fmt, "skipped": skipped, "problems": problems}
        print_json({**report, "by_type": by_type})
        return
    kinds = ", ".join(f"{n} {t}" for t, n in by_type.items()) or "none"
    typer.echo(f"imported {file}: {created} created, {updated} updated ({kinds})")
    if skipped:
        typer.echo(f"skipped {skipped} bad object(s):", err=True)
        for problem in problems:
            typer.echo(f"  {problem}", err=True)


@app.command("list")
def list_(
    type: str | None = typer.Option(
        None, "--type", "-t", help="only this type: ipv4, ipv6, cidr, domain, url, url_pattern …"
    ),
    search: str | None = typer.Option(
        None, "--search", "-s", help="part of the value, threat or source"
    ),
    limit: int | None = typer.Option(50, "--limit", min=1, help="at most this many (default 50)"),
    offset: int = typer.Option(0, "--offset", min=0, help="skip this many first"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List (search) indicators, by type and value."""
    with store().session() as session:
        found, total = intel.list_indicators(
            session, type=type, search=search, limit=limit, offset=offset
        )
    if as_json:
        print_json([_plain(i) for i in found])
        return
    print_table(
        ["TYPE", "VALUE", "SOURCE", "SEVERITY", "CONF", "ACTION", "THREAT", "VALID UNTIL"],
        [
            (
                i.type.value,
                i.value,
                i.source,
                i.severity.value,
                i.confidence,
                i.action.value,
                i.threat,
                _day(i.valid_until),
            )
            for i in found
        ],
    )
    typer.echo(f"{len(found)} of {total} indicators", err=True)


@app.command("show")
def show(
    indicator_id: str = typer.Argument(help="type:value, e.g. domain:evil.example"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show an indicator: every source's listing, its sightings and its change log."""
    with store().session() as session:
        found = intel.get_indicator(session, indicator_id)
        first = found[0]
        sightings = intel.list_sightings(session, first.id)
        changes = intel.indicator_changes(session, first.type, first.value)
    if as_json:
        print_json(
            {
                "id": first.id,
                "listings": [_plain(i) for i in found],
                "sightings": sightings,
                "changes": changes,
            }
        )
        return
    typer.echo(first.id)
    for i in found:
        threat = f"  threat: {i.threat}" if i.threat else ""
        until = f"  valid until {_day(i.valid_until)}" if i.valid_until else ""
        typer.echo(
            f"  {i.source}: {i.severity.value}, confidence {i.confidence}, {i.action.value}, "
            f"TLP:{i.tlp.value}{threat}{until}"
        )
    if sightings:
        typer.echo(f"seen at {len(sightings)} organisation(s):")
        for s in sightings:
            typer.echo(f"  {s.org}: {s.count} time(s), {_day(s.first_seen)} to {_day(s.last_seen)}")
    for c in changes:
        typer.echo(f"  {c.at:%Y-%m-%d %H:%M} {c.change} ({c.source}): {c.reason}")


@app.command("expire")
def expire(
    indicator_id: str = typer.Argument(help="type:value, e.g. domain:evil.example"),
    reason: str = typer.Option(..., "--reason", "-r", help="why it no longer applies"),
    source: str | None = typer.Option(None, "--source", "-s", help="only this source's listing"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Expire an indicator now (every source's listing, or one)."""
    with store().session() as session:
        count = intel.expire_indicator(
            session,
            indicator_id,
            actor=Actor.cli(),
            reason=reason,
            now=datetime.now(UTC),
            source=source,
        )
    if as_json:
        print_json({"id": indicator_id, "expired": count})
        return
    typer.echo(f"expired {count} listing(s) of {indicator_id}")


@app.command("sightings")
def sightings(
    indicator_id: str | None = typer.Argument(None, help="type:value; default: every indicator"),
    days: int = typer.Option(7, "--days", min=1, help="seen in the last N days (default 7)"),
    stix: bool = typer.Option(False, "--stix", help="print a STIX 2.1 bundle of sightings"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List sightings, or how many organisations each indicator hit in the last N days."""
    since = datetime.now(UTC) - timedelta(days=days)
    with store().session() as session:
        found = intel.list_sightings(session, indicator_id, since=since)
    if stix:
        print_json(intel.sightings_bundle(found))
        return
    if as_json:
        print_json(found)
        return
    hit = Counter(s.indicator for s in found)
    print_table(
        ["INDICATOR", "ORGS", "EVENTS", "LAST SEEN"],
        [
            (
                indicator,
                orgs,
                sum(s.count for s in found if s.indicator == indicator),
                _day(max(s.last_seen for s in found if s.indicator == indicator)),
            )
            for indicator, orgs in hit.most_common()
        ],
    )


@app.command("retrohunt")
def retrohunt(
    days: int = typer.Option(30, "--days", min=1, help="search the last N days (default 30)"),
    everything: bool = typer.Option(
        False, "--all", help="hunt every active indicator, not only those new since the last run"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Search the archive for indicators new since the last retro-hunt; raise retrospective alerts."""
    with store().session() as session:
        report = run_retrohunt(
            session, settings().archive_dir, days=days, now=datetime.now(UTC), everything=everything
        )
    if as_json:
        print_json(report)
        return
    typer.echo(
        f"hunted {report.indicators} indicator(s) over {days} days: {report.events} past event(s) "
        f"matched, {report.alerts} retrospective alert(s) raised, "
        f"{report.already_alerted} already alerted"
    )


app.add_typer(intel_feeds.feeds_app, name="feeds")
app.add_typer(intel_feeds.allow_app, name="allow")
app.add_typer(intel_blocklists.policies_app, name="policies")
app.add_typer(intel_blocklists.devices_app, name="devices")
