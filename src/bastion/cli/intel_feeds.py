"""`bastion intel feeds …` and `bastion intel allow …`: where indicators come from, what never counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import typer

from bastion import intel, orgs
from bastion.audit import Actor
from bastion.boundary.retrohunt import retrohunt as run_retrohunt
from bastion.cli.context import JSON_OPTION, print_json, print_table, settings, store
from bastion.core.errors import InputError
from bastion.intel import feeds

feeds_app = typer.Typer(help="Feeds of indicators: add, list, pull, history.", no_args_is_help=True)
allow_app = typer.Typer(
    help="The allow-list: networks and domains never blocked.", no_args_is_help=True
)

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


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


@feeds_app.command("types")
def types(as_json: bool = JSON_OPTION) -> None:
    """List the feed types a feed can be."""
    found = {name: t.description for name, t in sorted(feeds.FEED_TYPES.items())}
    if as_json:
        print_json(found)
        return
    print_table(["TYPE", "WHAT"], found.items())


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
    with store().session() as session:
        feed = feeds.add_feed(
            session, name, kind, url, interval=parse_interval(interval),
            options=parse_options(option), now=datetime.now(UTC),
            actor=Actor.cli(),
        )  # fmt: skip
    if as_json:
        print_json(feed)
        return
    typer.echo(f"added feed {feed.name} ({feed.kind}, every {feed.interval})")


@feeds_app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List feeds."""
    with store().session() as session:
        found = feeds.list_feeds(session)
    if as_json:
        print_json(found)
        return
    print_table(
        ["NAME", "TYPE", "EVERY", "LAST PULL", "URL"],
        [(f.name, f.kind, f.interval, _when(f.last_pull_at), f.url) for f in found],
    )


def _print_pulls(pulls: list[feeds.Pull]) -> None:
    print_table(
        ["ID", "FEED", "STARTED", "STATUS", "READ", "ADDED", "CHANGED", "EXPIRED", "SKIPPED", "REASON"],
        [
            (p.id, p.feed, _when(p.started_at), p.status, p.read, p.added, p.changed, p.expired,
             p.skipped, p.reason)
            for p in pulls
        ],
    )  # fmt: skip


@feeds_app.command("pull")
def pull(
    name: str | None = typer.Argument(None, help="the feed to pull; default: every feed due"),
    retrohunt: bool = typer.Option(
        False, "--retrohunt", help="then hunt what arrived over the archive's last 30 days"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Pull one feed now, or every feed whose interval has passed; exit 1 if a pull failed."""
    now = datetime.now(UTC)
    with store().session() as session:
        pulls = (
            [feeds.pull_feed(session, name, actor=Actor.cli(), now=now)]
            if name
            else feeds.pull_due(session, actor=Actor.cli(), now=now)
        )
    hunted = None
    if retrohunt:
        with store().session() as session:
            hunted = run_retrohunt(session, settings().archive_dir, now=datetime.now(UTC))
    if as_json:
        print_json(pulls if hunted is None else {"pulls": pulls, "retrohunt": hunted})
    else:
        _print_pulls(pulls)
        if hunted is not None:
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
    with store().session() as session:
        pulls = feeds.feed_history(session, name, limit=limit)
    if as_json:
        print_json(pulls)
        return
    _print_pulls(pulls)


@allow_app.command("add")
def allow_add(
    values: list[str] = typer.Argument(help="networks (CIDR or address) and domains"),
    reason: str = typer.Option(..., "--reason", "-r", help="why they are allowed"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Allow-list networks and domains: they are never matched or blocked."""
    with store().session() as session:
        added = intel.allow(
            session, values, actor=Actor.cli(), reason=reason, now=datetime.now(UTC)
        )
    if as_json:
        print_json({"added": added})
        return
    typer.echo(f"allow-listed {added} new entr{'y' if added == 1 else 'ies'}")


@allow_app.command("federation")
def allow_federation(as_json: bool = JSON_OPTION) -> None:
    """Allow-list every network registered to a member organisation."""
    with store().session() as session:
        added = intel.allow_federation(
            session, orgs.all_networks(session), actor=Actor.cli(), now=datetime.now(UTC)
        )
    if as_json:
        print_json({"added": added})
        return
    typer.echo(f"allow-listed {added} federation network(s)")


@allow_app.command("list")
def allow_list(as_json: bool = JSON_OPTION) -> None:
    """List the allow-list."""
    with store().session() as session:
        found = intel.allowlist(session)
    if as_json:
        print_json(found)
        return
    print_table(["TYPE", "VALUE", "REASON"], [(e.type, e.value, e.reason) for e in found])


@allow_app.command("remove")
def allow_remove(value: str = typer.Argument(help="the network or domain")) -> None:
    """Remove an entry from the allow-list."""
    with store().session() as session:
        intel.disallow(session, value, actor=Actor.cli())
    typer.echo(f"removed {value} from the allow-list")
