"""`bastion intel feeds …` and `bastion intel allow …`: where indicators come from, what never counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import typer

from bastion.cli.context import actor, cli_session, command_group, in_session, settings
from bastion.cli.context import minute as _when
from bastion.cli.output import JSON_OPTION, Column, fields, print_record, print_rows
from bastion.core.errors import InputError

if TYPE_CHECKING:
    from bastion.intel import AllowEntry
    from bastion.intel.feeds import Feed, Pull

feeds_app = command_group("Feeds of indicators: add, list, pull, history.")
allow_app = command_group("The allow-list: networks and domains never blocked.")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> timedelta:
    """Read an interval like 30m, 6h or 1d; raise InputError otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text.lower())
    if not match:
        msg = f"invalid interval {text!r}: give a number and a unit, like 15m, 6h or 1d"
        raise InputError(msg)
    return timedelta(seconds=int(match[1]) * _UNITS[match[2]])


def parse_options(pairs: list[str]) -> dict[str, str]:
    """Turn ``key=value`` pairs into a dict; raise InputError on one without ``=``."""
    found = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            msg = f"option {pair!r} is not key=value"
            raise InputError(msg)
        found[key.strip()] = value.strip()
    return found


FEED_COLUMNS: list[Column[Feed]] = [
    *fields("name", "kind=TYPE", "interval=EVERY"),
    ("LAST PULL", lambda f: _when(f.last_pull_at)),
    *fields("url"),
]
PULL_COLUMNS: list[Column[Pull]] = [
    *fields("id", "feed"),
    ("STARTED", lambda p: _when(p.started_at)),
    *fields("status", "read", "added", "changed", "expired", "skipped", "reason"),
]
ALLOW_COLUMNS: list[Column[AllowEntry]] = [
    *fields("type", "value", "reason"),
]


@feeds_app.command("types")
def types(as_json: bool = JSON_OPTION) -> None:
    """List the feed types a feed can be."""
    from bastion.intel import feeds

    found = {name: t.description for name, t in sorted(feeds.FEED_TYPES.items())}
    print_rows(
        list(found.items()),
        [("TYPE", lambda t: t[0]), ("WHAT", lambda t: t[1])],
        as_json=as_json,
        data=found,
    )


@feeds_app.command("add")
def add(
    name: str = typer.Argument(help="the feed's name (its indicators' source)"),
    kind: str = typer.Argument(help="feed type: stix, taxii, misp-feed, misp-event, plain, csv"),
    url: str = typer.Argument(help="http(s) URL of the feed"),
    interval: str = typer.Option("1h", "--interval", "-i", help="poll interval: 15m, 6h, 1d …"),
    option: list[str] = typer.Option(
        [], "--option", "-o", help="key=value: column, threat_column, tlp, confidence, action, …"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Register a feed."""
    from bastion.intel import feeds

    with cli_session() as session:
        feed = feeds.add_feed(
            session, name, kind, url, interval=parse_interval(interval),
            options=parse_options(option), now=datetime.now(UTC),
            actor=actor(),
        )  # fmt: skip
    print_record(
        feed, lambda f: [f"added feed {f.name} ({f.kind}, every {f.interval})"], as_json=as_json
    )


@feeds_app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List feeds."""
    from bastion.intel import feeds

    found = in_session(feeds.list_feeds)
    print_rows(found, FEED_COLUMNS, as_json)


@feeds_app.command("pull")
def pull(
    name: str | None = typer.Argument(None, help="the feed to pull; default: every feed due"),
    retrohunt: bool = typer.Option(
        False, "--retrohunt", help="then hunt what arrived over the archive's last 30 days"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Pull one feed now, or every feed whose interval has passed; exit 1 if a pull failed."""
    from bastion.boundary.retrohunt import retrohunt as run_retrohunt
    from bastion.intel import feeds

    now = datetime.now(UTC)
    with cli_session() as session:
        pulls = (
            [feeds.pull_feed(session, name, actor=actor(), now=now)]
            if name
            else feeds.pull_due(session, actor=actor(), now=now)
        )
    hunted = None
    if retrohunt:
        hunted = in_session(run_retrohunt, settings().archive_dir, now=datetime.now(UTC))
    print_rows(
        pulls,
        PULL_COLUMNS,
        as_json=as_json,
        data=pulls if hunted is None else {"pulls": pulls, "retrohunt": hunted},
    )
    if hunted is not None and not as_json:
        typer.echo(
            f"retro-hunt: {hunted.indicators} indicator(s), {hunted.events} past event(s), "
            f"{hunted.alerts} retrospective alert(s)"
        )
    if any(p.status == "failed" for p in pulls):
        raise typer.Exit(1)  # recorded in the history; the exit code tells a scheduler


@feeds_app.command("history")
def history(
    name: str | None = typer.Argument(None, help="one feed; default: all"),
    limit: int = typer.Option(50, "--limit", min=1, help="at most this many pulls"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show the latest pulls and what each added, changed and expired."""
    from bastion.intel import feeds

    pulls = in_session(feeds.feed_history, name, limit=limit)
    print_rows(pulls, PULL_COLUMNS, as_json)


@allow_app.command("add")
def allow_add(
    values: list[str] = typer.Argument(help="networks (CIDR or address) and domains"),
    reason: str = typer.Option(..., "--reason", "-r", help="why they are allowed"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Allow-list networks and domains: they are never matched or blocked."""
    from bastion import intel

    added = in_session(intel.allow, values, actor=actor(), reason=reason, now=datetime.now(UTC))
    print_record(
        {"added": added},
        lambda _: [f"allow-listed {added} new entr{'y' if added == 1 else 'ies'}"],
        as_json=as_json,
    )


@allow_app.command("federation")
def allow_federation(as_json: bool = JSON_OPTION) -> None:
    """Allow-list every network registered to a member organisation."""
    from bastion import intel, orgs

    with cli_session() as session:
        added = intel.allow_federation(
            session, orgs.all_networks(session), actor=actor(), now=datetime.now(UTC)
        )
    print_record(
        {"added": added}, lambda _: [f"allow-listed {added} federation network(s)"], as_json=as_json
    )


@allow_app.command("list")
def allow_list(as_json: bool = JSON_OPTION) -> None:
    """List the allow-list."""
    from bastion import intel

    found = in_session(intel.allowlist)
    print_rows(found, ALLOW_COLUMNS, as_json)


@allow_app.command("remove")
def allow_remove(value: str = typer.Argument(help="the network or domain")) -> None:
    """Remove an entry from the allow-list."""
    from bastion import intel

    in_session(intel.disallow, value, actor=actor())
    typer.echo(f"removed {value} from the allow-list")
