"""`bastion rules`: the Sigma rule workbench — check, test, list, show, enable, disable and tune."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bastion.cli.context import actor, cli_session, command_group, in_session, settings
from bastion.cli.output import JSON_OPTION, Column, fields, print_record, print_rows
from bastion.core.errors import InputError, NotFoundError

if TYPE_CHECKING:
    from bastion.detect import RuleSet

app = command_group("Check, test and tune Sigma detection rules.")


@app.command("check")
def check(
    paths: list[Path] = typer.Argument(help="rule files or folders"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Load rules and say, per rule file, whether each rule compiled and, if not, why."""
    from bastion.detect import RuleStatus, load_ruleset

    rules = load_ruleset(paths, placeholders=settings().rule_placeholders)
    failed = [r for r in rules.reports if r.status in (RuleStatus.INVALID, RuleStatus.UNSUPPORTED)]
    print_record(
        rules,
        _check_lines,
        as_json=as_json,
        data=[r.to_dict() for r in rules.reports],
        footer=f"{len(rules.rules)} compiled, {len(rules.correlations)} correlation(s) compiled, "
        f"{len(failed)} not",
    )
    if failed:
        raise typer.Exit(1)


@app.command("test")
def try_rules(
    rule: list[Path] = typer.Argument(help="rule files or folders to test"),
    log: Path = typer.Option(..., "--log", "-l", help="a log file to run the rules over"),
    fmt: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help="the log's format (see `bastion boundary formats`); detected when omitted",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run rules over a log file: print each match and which selections fired."""
    from bastion.boundary.logcheck import run_log
    from bastion.detect import RuleStatus, load_ruleset

    rules = load_ruleset(rule, placeholders=settings().rule_placeholders)
    bad = [r for r in rules.reports if r.status in (RuleStatus.INVALID, RuleStatus.UNSUPPORTED)]
    if not rules.rules:
        reason = bad[0].reason if bad else "no rule found"
        msg = f"no rule to test: {reason}"
        raise InputError(msg)
    run = run_log(rules, log, fmt)
    summary = f"{len(run.matches)} matches in {run.events} events ({run.format}, {run.rejects} lines rejected)"
    print_record(
        run,
        lambda found: [
            f"line {m.line}: {m.title} [{m.rule_id}] fired by {', '.join(m.selections) or '-'}\n"
            f"    {m.raw or ''}"
            for m in found.matches
        ],
        as_json=as_json,
        footer="\n".join([*(f"not run: {r.path}: {r.reason}" for r in bad), summary]),
    )


def _check_lines(rules: RuleSet) -> Iterator[str]:
    for r in rules.reports:
        note = r.reason or "; ".join(r.warnings)
        yield f"{r.status.value:<12} {r.path}  {r.title or ''}" + (f"\n    {note}" if note else "")
        if r.missing_fields:
            yield f"    needs fields no log Bastion reads provides: {', '.join(r.missing_fields)}"


def _hit_counts() -> Counter[str]:
    from bastion.alerts import list_alerts
    from bastion.detect import KEY_PREFIX, builtin_rule_id

    counts: Counter[str] = Counter()
    alerts, _ = in_session(list_alerts)
    for alert in alerts:
        if alert.key.startswith(KEY_PREFIX):
            # a correlation's alerts are keyed "sigma:<id> <group as JSON>"
            counts[alert.key.removeprefix(KEY_PREFIX).split(" {", 1)[0]] += alert.count
        elif (check := builtin_rule_id(alert.key)) is not None:
            counts[check] += alert.count
    return counts


def _rules() -> RuleSet:
    from bastion.detect import RuleSet, load_ruleset

    folder = settings().rules_dir
    if not folder.is_dir():
        return RuleSet([])
    return load_ruleset([folder], placeholders=settings().rule_placeholders)


def _thresholds_cell(row: dict[str, Any]) -> str:
    return ", ".join(f"{t.name}={t.value:,}" for t in row.get("thresholds", []))


RULE_COLUMNS: list[Column[Any]] = [
    *fields("id", "level", "status", "hits"),
    ("THRESHOLDS", _thresholds_cell),
    *fields("title"),
]


def _org_code(org: str | None) -> str | None:
    """Return the code of the organisation ``--org`` names (NotFoundError when none has it)."""
    if org is None:
        return None
    from bastion.orgs import get_organisation

    return in_session(lambda session: get_organisation(session, org).code)


def _rule_rows(org: str | None) -> list[dict[str, Any]]:
    """Every rule of the folder and every built-in check as a row: status, tuning, thresholds.

    With ``org``, a rule's status is the organisation's (off for it, or for everyone) and
    a threshold's value is the one it alerts at.
    """
    from bastion.detect import BUILTIN_CHECKS, RuleStatus, load_tuning, threshold_views

    rules = _rules()
    counts = _hit_counts()
    tuning = in_session(load_tuning)
    off_for: dict[str, list[str]] = {}
    for rule_id, code in sorted(tuning.disabled_for):
        off_for.setdefault(rule_id, []).append(code)

    def status(rule_id: str) -> str:
        off = rule_id in tuning.disabled or (org is not None and org in off_for.get(rule_id, []))
        return "disabled" if off else "enabled"

    rows: list[dict[str, Any]] = [
        {
            "id": r.id,
            "title": r.title,
            "level": r.level,
            "status": status(r.id),
            "disabled_for": off_for.get(r.id, []),
            "hits": counts.get(r.id, 0),
            "alerts": r.alert,
            "datasets": list(r.datasets),
            "tags": list(r.tags),
            "path": r.path,
        }
        for r in rules.rules
    ]
    rows += [
        {
            "id": str(c.id or c.name),
            "title": c.title,
            "level": c.level.name.lower() if c.level else None,
            "status": status(str(c.id or c.name)),
            "disabled_for": off_for.get(str(c.id or c.name), []),
            "hits": counts.get(str(c.id or c.name), 0),
            "correlation": c.type.name.lower(),
            "datasets": [],
            "tags": [str(t) for t in c.tags],
            "path": str(c.source.path) if c.source is not None and c.source.path else None,
        }
        for c in rules.correlations
    ]
    rows += [
        {
            "id": c.id,
            "title": c.title,
            "level": c.level,
            "status": status(c.id),
            "disabled_for": off_for.get(c.id, []),
            "hits": counts.get(c.id, 0),
            "builtin": True,
            "thresholds": threshold_views(c.id, tuning.thresholds, org),
            "datasets": [],
            "tags": list(c.tags),
            "path": None,
        }
        for c in BUILTIN_CHECKS
    ]
    rows += [
        {
            "id": r.id,
            "title": r.title,
            "level": None,
            "status": r.status.value,
            "reason": r.reason,
            "hits": counts.get(r.id or "", 0),
            "path": r.path,
        }
        for r in rules.reports
        if r.status in (RuleStatus.INVALID, RuleStatus.UNSUPPORTED)
    ]
    return rows


ORG_VIEW = typer.Option(
    None, "--org", "-o", help="show the status and thresholds in force for this organisation"
)


@app.command("list")
def list_(org: str | None = ORG_VIEW, as_json: bool = JSON_OPTION) -> None:
    """List the rules folder and the built-in checks: each rule's status (enabled, disabled,
    or why it does not run), level, tuning, thresholds and hit count (events of its alerts)."""
    rows = _rule_rows(_org_code(org))
    print_rows(
        rows,
        RULE_COLUMNS,
        as_json=as_json,
        footer=f"{len(rows)} rules in {settings().rules_dir}",
    )


def _show_lines(row: dict[str, Any]) -> Iterator[str]:
    yield f"{row['id']}  {row['title']}"
    yield f"  level: {row['level'] or '-'}   status: {row['status']}   hits: {row['hits']:,}"
    if row.get("reason"):
        yield f"  not run: {row['reason']}"
    if row.get("disabled_for"):
        yield f"  off for: {', '.join(row['disabled_for'])}"
    for t in row.get("thresholds", []):
        where = f" for {t.org}" if t.org else ""
        own = ", ".join(f"{o}={v:,}" for o, v in sorted(t.per_org.items())) or "none"
        yield (
            f"  threshold {t.name}: {t.value:,} {t.unit}{where} (national {t.national:,}, "
            f"default {t.default:,}, from {t.minimum:,} to {t.maximum:,}); "
            f"organisations' own: {own}"
        )


@app.command("show")
def show(
    rule_id: str = typer.Argument(help="the rule's id, from `bastion rules list`"),
    org: str | None = ORG_VIEW,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show one rule or built-in check: its status, tuning, hit count and thresholds."""
    rows = [r for r in _rule_rows(_org_code(org)) if r["id"] == rule_id]
    if not rows:
        msg = f"no rule has id {rule_id!r}; see 'bastion rules list'"
        raise NotFoundError(msg)
    print_record(rows[0], _show_lines, as_json=as_json)


def _switch(rule_id: str, org: str | None, *, enabled: bool) -> None:
    from bastion.detect import require_rule, tune_rule

    require_rule(_rules(), rule_id)
    with cli_session() as session:
        tune_rule(session, actor(), rule_id, enabled=enabled, org=org)
        session.commit()
    where = f" for {org.upper()}" if org else ""
    typer.echo(f"rule {rule_id} {'enabled' if enabled else 'disabled'}{where}")


RULE_ID = typer.Argument(help="the rule's id, from `bastion rules list`")
ORG = typer.Option(None, "--org", "-o", help="only for this organisation")


@app.command("disable")
def disable(rule_id: str = RULE_ID, org: str | None = ORG) -> None:
    """Switch a rule off, for everyone or for one organisation."""
    _switch(rule_id, org, enabled=False)


@app.command("enable")
def enable(rule_id: str = RULE_ID, org: str | None = ORG) -> None:
    """Switch a rule back on, for everyone or for one organisation."""
    _switch(rule_id, org, enabled=True)


THRESHOLD_NAME = typer.Argument(
    help="the threshold's name: ports (builtin:port-scan), bytes "
    "(builtin:exfiltration); see `bastion rules show`"
)


def _tune_threshold(rule_id: str, name: str, value: int | None, org: str | None) -> None:
    from bastion.detect import tune_threshold

    with cli_session() as session:
        tune_threshold(session, actor(), rule_id, name, value, org=org)
        session.commit()
    where = f" for {org.upper()}" if org else " for every organisation"
    done = f"set to {value:,}" if value is not None else "cleared"
    typer.echo(f"rule {rule_id} threshold {name} {done}{where}")


@app.command("set-threshold")
def set_threshold(
    rule_id: str = RULE_ID,
    name: str = THRESHOLD_NAME,
    value: int = typer.Argument(help="the value to alert at (distinct ports, or bytes)"),
    org: str | None = ORG,
) -> None:
    """Set a built-in check's threshold, for everyone or for one organisation."""
    _tune_threshold(rule_id, name, value, org)


@app.command("clear-threshold")
def clear_threshold(
    rule_id: str = RULE_ID, name: str = THRESHOLD_NAME, org: str | None = ORG
) -> None:
    """Clear a built-in check's threshold: an organisation's (back to the national value),
    or the national one (back to the default)."""
    _tune_threshold(rule_id, name, None, org)
