"""Every `bastion` command that changes state leaves exactly one audit event, as ``cli:<login>``.

The commands come from the Typer app itself. Each is classified once, here:
``MUTATING`` (with how to run it), ``READ_ONLY``, or ``NOT_AUDITED`` (with why).
A command added without a class fails ``test_every_command_is_classified``; a
mutating command whose service forgets to record, or records twice, fails
``test_each_mutating_command_leaves_one_audit_event``.
"""

from __future__ import annotations

import functools
import getpass
import http.server
import json
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from sqlalchemy import text
from tests.advisories.conftest import cyclonedx, log4j_core
from tests.alerts.graph_server import graph_server
from tests.alerts.test_defender_pull import _alert
from tests.conftest import Run, bastion_in

from bastion.cli import context
from bastion.cli.main import app
from bastion.demo.detection import install_demo_rules
from bastion.passwords import ntlm_many

RULE_ID = "451b3c28-3fed-4081-aef7-5230e65f58a7"  # the demo's Log4Shell rule

Step = Callable[[Run, Path, Path], object]  # prepares what a command needs (cli, tmp, shared)
Argv = Callable[[Path, Path], list[str]]  # the command's words, given tmp and the shared data


@dataclass(frozen=True)
class Case:
    """How to run one mutating command: its steps first, then its words."""

    argv: Argv
    before: tuple[Step, ...] = ()
    # How many changes the command made, from what it printed: one unless it says more.
    changes: Callable[[str], int] = lambda _out: 1


def commands() -> set[str]:
    """Every leaf command of `bastion`, as its words (``intel feeds pull``)."""
    found = set()

    def walk(command: object, words: list[str]) -> None:
        children = getattr(command, "commands", None)
        if children is None:
            found.add(" ".join(words))
            return
        for name, child in children.items():
            walk(child, [*words, name])

    walk(typer.main.get_command(app), [])
    return found


def ok(result: object) -> str:
    assert getattr(result, "exit_code", 1) == 0, getattr(result, "output", result)
    return str(getattr(result, "stdout", ""))


def closed_port() -> int:
    """Return a loopback port nothing listens on: e-mail and feeds there fail at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- how to run each mutating command, from a federation of one trust (RAA) ----------


def draft(cli: Run, tmp: Path, shared: Path) -> None:
    ok(cli("advisories", "draft", "--title", "Test alert", "--severity", "low", "--org", "RAA"))


def published(cli: Run, tmp: Path, shared: Path) -> None:
    draft(cli, tmp, shared)
    ok(cli("advisories", "publish", "CC-0001"))


def applicable(cli: Run, tmp: Path, shared: Path) -> None:
    published(cli, tmp, shared)
    ok(cli("advisories", "respond", "applicability", "CC-0001", "applicable", "--org", "RAA"))


def with_action(cli: Run, tmp: Path, shared: Path) -> None:
    published(cli, tmp, shared)
    ok(cli("advisories", "respond", "action", "CC-0001", "patch", "--org", "RAA"))


def overdue(cli: Run, tmp: Path, shared: Path) -> None:
    published(cli, tmp, shared)
    store = context.store()
    with store.engine.begin() as conn:  # a response whose acknowledgement was due yesterday
        conn.execute(text("UPDATE adv_responses SET ack_due = '2000-01-01 00:00:00.000000'"))


def viewer(cli: Run, tmp: Path, shared: Path) -> None:
    ok(cli("users", "add", "dee", "--org", "RAA:org_viewer"))


def policy(cli: Run, tmp: Path, shared: Path) -> None:
    ok(cli("intel", "policies", "add", "firewalls"))


def opened(cli: Run, tmp: Path, shared: Path) -> None:
    ok(cli("cases", "create", "--title", "Beacon", "--org", "RAA"))


def listed(cli: Run, tmp: Path, shared: Path) -> None:
    (tmp / "list.txt").write_text("bad.example\n")
    ok(cli("intel", "import", str(tmp / "list.txt")))


def breached_store(cli: Run, tmp: Path, shared: Path) -> None:
    """A breached-password store of one password, and a directory dump of an account using it."""
    (tmp / "list.txt").write_text("Password1\n")
    ok(cli("passwords", "build", str(tmp / "list.txt")))
    nt = bytes(ntlm_many(["Password1"])[0]).hex()
    (tmp / "dump.txt").write_text(f"ann:1001:aad3b435b51404eeaad3b435b51404ee:{nt}:::\n")


def scan_finding(cli: Run, tmp: Path, shared: Path, days_ago: int = 0) -> None:
    """One open finding of RAA (finding 1), folded as a scan would (no packet sent)."""
    from datetime import UTC, datetime, timedelta

    from bastion import audit, scan
    from bastion.core.types import Severity

    observation = scan.Observation(
        "ports", "exposed:rdp", "RDP open", Severity.HIGH, 3389,
        scan.Evidence("X.224", "0300"), "exposed_service", {"service": "RDP", "why": "-"},
    )  # fmt: skip
    target = scan.Target("RAA", "www.raa.example", "203.0.113.10", "www.raa.example")
    with context.store().session() as session:
        scan.record_outcome(
            session, scan.HostOutcome(target, [observation]), actor=audit.Actor.cli("scan"),
            now=datetime.now(UTC) - timedelta(days=days_ago),
        )  # fmt: skip


def behaviour_day(cli: Run, tmp: Path, shared: Path) -> None:
    """One archived day of RAA with a beacon in it, for a hunt to find."""
    from tests.behaviour.helpers import archive, beacon_times, connections

    root = context.settings().archive_dir
    archive(root, connections(beacon_times(300, 200), "10.0.0.5", "203.0.113.90"))


def behaviour_result(cli: Run, tmp: Path, shared: Path) -> None:
    """One open beacon result of RAA (result 1), as a hunt stores it."""
    from datetime import UTC, date, datetime

    from bastion.behaviour.models import BehaviourResultRow

    seen = datetime(2026, 1, 5, 9, tzinfo=UTC)
    with context.store().session() as session:
        session.add(
            BehaviourResultRow(
                org_code="RAA", day=date(2026, 1, 5), analytic="beacon", host="10.0.0.5",
                dest="203.0.113.90", remote="203.0.113.90", score=0.9, parts={}, connections=50,
                orgs=1, first_seen=seen, last_seen=seen, status="open", evidence={},
            )
        )  # fmt: skip


def old_scan_finding(cli: Run, tmp: Path, shared: Path) -> None:
    """RAA's finding 1, found 90 days ago: due a reminder (high: every 60 days)."""
    scan_finding(cli, tmp, shared, days_ago=90)


class _SmtpSink:
    """A local SMTP server (aiosmtpd) that accepts every message, stopped like SERVERS."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        class Accept:
            async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
                return "250 OK"

        self.controller = Controller(Accept(), hostname="127.0.0.1", port=closed_port())
        self.controller.start()
        self.port = self.controller.port

    def shutdown(self) -> None:
        self.controller.stop()

    def server_close(self) -> None:
        return None


def smtp_sink(cli: Run, tmp: Path, shared: Path) -> None:
    """E-mail goes to a local SMTP server that accepts it (the cli fixture restores the port)."""
    import os

    sink = _SmtpSink()
    SERVERS.append(sink)  # type: ignore[arg-type]
    os.environ["BASTION_SMTP_PORT"] = str(sink.port)


def scan_request(cli: Run, tmp: Path, shared: Path) -> None:
    """A member's request for an exception (exception 1), waiting for a national decision."""
    from datetime import date

    from bastion import audit, scan

    with context.store().session() as session:
        scan.add_exception(
            session, "RAA", "www.raa.example", None, expires_on=date(2099, 1, 1),
            reason="decommissioning", actor=audit.Actor.cli("lead"), approve=False,
        )  # fmt: skip


def rules(cli: Run, tmp: Path, shared: Path) -> None:
    install_demo_rules(context.settings().rules_dir)


def alerted(cli: Run, tmp: Path, shared: Path) -> None:
    """Two alerts of RAA, one host and one observable: alert 1 and 2, one group."""
    import polars as pl

    from bastion.alerts import record_alerts

    opened = context.store()
    with opened.session() as session:
        record_alerts(
            session,
            pl.DataFrame(
                {
                    "organization.id": ["RAA", "RAA"],
                    "host.ip": ["10.9.0.5", "10.9.0.5"],
                    "kind": ["indicator", "rule"],
                    "key": ["ipv4:203.0.113.9", "builtin:port-scan:203.0.113.9"],
                    "title": ["Known C2", "Port scan"],
                    "severity": ["high", "medium"],
                    "observable": ["203.0.113.9", "203.0.113.9"],
                }
            ),
        )
    opened.dispose()


def serve(tmp: Path, name: str, content: bytes) -> str:
    """Serve ``content`` from a loopback HTTP server; return its URL."""
    (tmp / "served").mkdir(exist_ok=True)
    (tmp / "served" / name).write_bytes(content)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=tmp / "served")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    SERVERS.append(server)
    return f"http://127.0.0.1:{server.server_address[1]}/{name}"


def osv_server(tmp: Path, shared: Path) -> str:
    """Serve one real OSV record; return its URL."""
    record = shared / "intel" / "osv" / "GHSA-jfh8-c2jp-5v3q.json"
    return serve(tmp, record.name, record.read_bytes())


SERVERS: list[http.server.ThreadingHTTPServer] = []


def sbom(tmp: Path) -> str:
    path = tmp / "pas.cdx.json"
    path.write_bytes(cyclonedx([log4j_core("2.14.1")]))
    return str(path)


def orgs_csv(tmp: Path) -> str:
    path = tmp / "orgs.csv"
    path.write_text(
        "code,name,type,parent,networks,hosts,contacts\nRBB,Beta Trust,trust,,10.9.0.0/16,,\n"
    )
    return str(path)


def archived_day(cli: Run, tmp: Path, shared: Path) -> None:
    """One batch of RAA's events archived on 1 March 2024, long past any retention."""
    from datetime import UTC, datetime

    import polars as pl

    from bastion.boundary.archive import write_batch

    at = datetime(2024, 3, 1, 10, tzinfo=UTC)
    write_batch(
        pl.DataFrame({"@timestamp": [at], "organization.id": ["RAA"]}),
        tmp / "data" / "archive",
        "b-1",
    )


def defender_pull(_tmp: Path, _shared: Path) -> list[str]:
    """Pull two Defender alerts from a local Graph (its server lives as long as the test)."""
    served = graph_server([_alert(0), _alert(1)])
    token_url, alerts_url, _graph = served.__enter__()
    SERVED.append(served)
    return ["alerts", "pull-defender", "--token-url", token_url, "--alerts-url", alerts_url,
            "--client-id", "app", "--client-secret", "s3cret"]  # fmt: skip


SERVED: list[AbstractContextManager[object]] = []


def case(argv: Argv, *before: Step) -> Case:
    return Case(argv, before)


def loaded(out: str) -> int:
    """Read ``loaded N demo inventories``: each inventory is one import, one event, and the
    demo's vulnerability records, imported first into a database without any, one more."""
    records = 1 if "imported the demo's" in out else 0
    return records + int(out.split("loaded ", 1)[1].split(" ", 1)[0])


def words(*argv: str) -> Argv:
    return lambda _tmp, _shared: list(argv)


def run(*argv: str) -> Step:
    """A step that runs one `bastion` command and checks it succeeded."""
    return lambda cli, _tmp, _shared: ok(cli(*argv))


UPTIME_MONITOR = ("uptime", "monitors", "add", "portal", "--type", "http", "--org", "RAA",
                  "--target", "http://127.0.0.1:9/", "--service", "Portal")  # fmt: skip
UPTIME_INCIDENT = ("uptime", "incidents", "open", "Portal", "--title", "Down", "--org", "RAA")
ASSURE_OPEN = (
    run("assure", "frameworks", "import", "dspt"),
    run("assure", "returns", "open", "RAA", "2024-25"),
)
ASSURE_REVIEW = (*ASSURE_OPEN, run("assure", "reviews", "assign", "1", "peer", "pat"))
ASSURE_ACTION = (*ASSURE_OPEN, run("assure", "plan", "add", "1", "7", "Test restores", "--owner",
                                   "IT", "--due", "2025-03-31"))  # fmt: skip

MUTATING: dict[str, Case] = {
    "assure frameworks import": case(words("assure", "frameworks", "import", "cyber-essentials")),
    "assure returns open": case(
        words("assure", "returns", "open", "RAA", "2024-25"), ASSURE_OPEN[0]
    ),
    "assure returns answer": case(
        words("assure", "returns", "answer", "1", "1.1", "yes"), *ASSURE_OPEN
    ),
    "assure returns publish": case(words("assure", "returns", "publish", "1"), *ASSURE_OPEN),
    "assure reviews assign": case(
        words("assure", "reviews", "assign", "1", "independent", "iris"), *ASSURE_OPEN
    ),
    "assure reviews submit": case(
        words("assure", "reviews", "submit", "1", "peer", "--outcome", "1", "--comment", "ok"),
        *ASSURE_REVIEW,
    ),
    "assure reviews return": case(
        words("assure", "reviews", "return", "1", "peer", "--outcome", "1", "--comment", "why?"),
        *ASSURE_REVIEW,
    ),
    "assure reviews approve": case(
        words("assure", "reviews", "approve", "1", "peer"), *ASSURE_REVIEW
    ),
    "assure plan add": case(
        words("assure", "plan", "add", "1", "8", "Patch", "--owner", "IT", "--due", "2025-03-31"),
        *ASSURE_OPEN,
    ),
    "assure plan close": case(words("assure", "plan", "close", "1"), *ASSURE_ACTION),
    # RAA's 2024-25 return is overdue: one reminder, failed (no SMTP server), recorded and audited.
    "assure remind": case(
        words("assure", "remind", "--attempts", "1", "--backoff", "0"), *ASSURE_OPEN
    ),
    "assure returns import": case(
        lambda _t, shared: [
            "assure",
            "returns",
            "import",
            str(shared / "assurance" / "dspt-icb-snapshot-2023-11-16.csv"),
        ]
    ),
    "advisories draft": case(
        words("advisories", "draft", "--title", "T", "--severity", "low", "--org", "RAA")
    ),
    "advisories edit": case(words("advisories", "edit", "CC-0001", "--title", "U"), draft),
    "advisories publish": case(words("advisories", "publish", "CC-0001"), draft),
    "advisories revise": case(words("advisories", "revise", "CC-0001", "--note", "n"), published),
    "advisories respond ack": case(
        words("advisories", "respond", "ack", "CC-0001", "--org", "RAA"), published
    ),
    "advisories respond applicability": case(
        words("advisories", "respond", "applicability", "CC-0001", "applicable", "--org", "RAA"),
        published,
    ),
    "advisories respond action": case(
        words("advisories", "respond", "action", "CC-0001", "patch", "--org", "RAA"), published
    ),
    "advisories respond update": case(
        words("advisories", "respond", "update", "1", "half", "--status", "in_progress"),
        with_action,
    ),
    "advisories respond close": case(
        words("advisories", "respond", "close", "CC-0001", "--org", "RAA"), applicable
    ),
    "advisories remind": case(words("advisories", "remind"), overdue),
    "advisories import": case(
        lambda _t, shared: ["advisories", "import", str(shared / "intel" / "osv")]
    ),
    "advisories fetch": case(lambda tmp, shared: ["advisories", "fetch", osv_server(tmp, shared)]),
    "advisories feeds add": case(words("advisories", "feeds", "add", "osv", "https://x.example/")),
    "advisories feeds run": case(
        words("advisories", "feeds", "run"),
        lambda cli, tmp, shared: ok(
            cli("advisories", "feeds", "add", "osv", osv_server(tmp, shared))
        ),
    ),
    "cases create": case(words("cases", "create", "--title", "Beacon", "--org", "RAA")),
    "cases merge": case(
        words("cases", "merge", "1", "--case", "2"),
        run("cases", "create", "--title", "A", "--org", "RAA"),
        run("cases", "create", "--title", "B", "--org", "RAA"),
    ),
    "cases status": case(words("cases", "status", "1", "triage"), opened),
    "cases close": case(words("cases", "close", "1", "--resolution", "benign"), opened),
    "cases assign": case(words("cases", "assign", "1", "soc-team"), opened),
    "cases note": case(words("cases", "note", "1", "called the trust"), opened),
    "cases observable": case(words("cases", "observable", "1", "domain", "c2.example"), opened),
    "boundary forget": case(
        lambda tmp, _s: ["boundary", "forget", str(tmp / "misread.log")],
        lambda cli, tmp, _s: (tmp / "misread.log").write_text("not a firewall log\n"),
        lambda cli, tmp, _s: ok(
            cli("boundary", "ingest", str(tmp / "misread.log"), "--format", "panos")
        ),
    ),
    "archive holds add": case(words("archive", "holds", "add", "RAA", "--reason", "case 12")),
    "archive holds clear": case(
        words("archive", "holds", "clear", "1"),
        run("archive", "holds", "add", "RAA", "--reason", "case 12"),
    ),
    "archive prune": case(words("archive", "prune", "--older-than", "30"), archived_day),
    "demo federation": case(words("demo", "federation", "--size", "small")),
    "exposures rematch": case(words("exposures", "rematch")),
    "inventory import": case(lambda tmp, _s: ["inventory", "import", "RAA", sbom(tmp)]),
    "inventory demo": Case(words("inventory", "demo"), changes=loaded),
    "intel import": case(
        lambda tmp, _s: ["intel", "import", str(tmp / "list.txt")],
        lambda _cli, tmp, _s: (tmp / "list.txt").write_text("bad.example\n"),
    ),
    "intel expire": case(
        words("intel", "expire", "domain:bad.example", "--reason", "sinkholed"), listed
    ),
    "intel allow add": case(words("intel", "allow", "add", "10.0.0.0/8", "--reason", "ours")),
    "intel allow federation": case(words("intel", "allow", "federation")),
    "intel allow remove": case(
        words("intel", "allow", "remove", "10.0.0.0/8"),
        run("intel", "allow", "add", "10.0.0.0/8", "--reason", "ours"),
    ),
    "intel policies add": case(words("intel", "policies", "add", "firewalls")),
    "intel devices add": case(
        words("intel", "devices", "add", "fw1", "--policy", "firewalls"), policy
    ),
    "intel devices revoke": case(
        words("intel", "devices", "revoke", "fw1"),
        policy,
        run("intel", "devices", "add", "fw1", "--policy", "firewalls"),
    ),
    "intel feeds add": case(words("intel", "feeds", "add", "f", "plain", "https://x.example/l")),
    "intel feeds pull": case(
        words("intel", "feeds", "pull", "f"),
        lambda cli, tmp, _s: ok(
            cli("intel", "feeds", "add", "f", "plain", serve(tmp, "l.txt", b"bad.example\n"))
        ),
    ),
    "orgs add": case(words("orgs", "add", "RCC", "Gamma Trust")),
    "passwords audit": case(
        lambda tmp, _s: ["passwords", "audit", "RAA", str(tmp / "dump.txt")], breached_store
    ),
    "orgs add-contact": case(words("orgs", "add-contact", "RAA", "Ann", "ann@raa.example")),
    "orgs add-host": case(words("orgs", "add-host", "RAA", "www.raa.example")),
    "orgs add-network": case(words("orgs", "add-network", "RAA", "10.1.0.0/16")),
    "orgs import": case(lambda tmp, _s: ["orgs", "import", orgs_csv(tmp)]),
    "alerts ack": case(words("alerts", "ack", "1", "--reason", "seen"), alerted),
    "alerts assign": case(words("alerts", "assign", "1", "--to", "soc"), alerted),
    "alerts close": Case(
        words("alerts", "close", "--org", "RAA", "--resolution", "benign"),
        (alerted,),
        changes=lambda out: int(out.split()[1]),
    ),
    "alerts note": case(words("alerts", "note", "2", "-m", "checked"), alerted),
    "alerts split": case(words("alerts", "split", "2"), alerted),
    "alerts pull-defender": case(defender_pull),
    "rules disable": case(words("rules", "disable", RULE_ID), rules),
    "rules enable": case(words("rules", "enable", RULE_ID), rules),
    "rules set-threshold": case(
        words("rules", "set-threshold", "builtin:port-scan", "ports", "20")
    ),
    "rules clear-threshold": case(
        words("rules", "clear-threshold", "builtin:port-scan", "ports"),
        run("rules", "set-threshold", "builtin:port-scan", "ports", "20"),
    ),
    "tokens create": case(words("tokens", "create", "--name", "feed", "--scope", "alerts:read")),
    "tokens revoke": case(
        words("tokens", "revoke", "1"),
        run("tokens", "create", "--name", "x", "--scope", "alerts:read"),
    ),
    "users add": case(words("users", "add", "eve", "--org", "RAA:org_viewer")),
    "users disable": case(words("users", "disable", "dee"), viewer),
    "users enable": case(words("users", "enable", "dee"), viewer),
    "users grant": case(words("users", "grant", "dee", "RAA:org_lead"), viewer),
    "users password": case(words("users", "password", "dee"), viewer),
    "users require-totp": case(words("users", "require-totp", "RAA")),
    "users reset-totp": case(words("users", "reset-totp", "dee"), viewer),
    "behaviour hunt": case(words("behaviour", "hunt", "--days", "1"), behaviour_day),
    "behaviour run": case(words("behaviour", "run"), behaviour_day),
    "behaviour benign": case(
        words("behaviour", "benign", "1", "--reason", "our backup agent"), behaviour_result
    ),
    "behaviour allow add": case(
        words("behaviour", "allow", "add", "domain", "vendor.test", "--reason", "updates")
    ),
    "behaviour allow remove": case(
        words("behaviour", "allow", "remove", "1"),
        run("behaviour", "allow", "add", "address", "198.18.4.123", "--reason", "ntp"),
    ),
    "scan run": Case(
        words("scan", "run", "RAA", "--checks", "ports"),
        changes=lambda out: 1 + int(out.split()[1]),  # the run, and one per host (RAA has none)
    ),
    "scan rescan": case(words("scan", "rescan", "1"), scan_finding),
    "scan except": case(
        words(
            "scan", "except", "RAA", "www.raa.example", "--expires", "2099-01-01", "--reason", "x"
        )
    ),
    "scan decide": case(words("scan", "decide", "1", "--approve"), scan_request),
    "scan digest": case(words("scan", "digest"), scan_finding, smtp_sink),  # one per organisation
    "scan remind": case(words("scan", "remind"), old_scan_finding, smtp_sink),
    "scan policy": case(
        words("scan", "policy", "RAA", "--high-risk", "--quiet", "08:00-18:30", "--dkim", "s1")
    ),
    "users revoke": case(words("users", "revoke", "dee", "RAA"), viewer),
    "users role": case(words("users", "role", "dee", "auditor"), viewer),
    "users sign-out": case(words("users", "sign-out", "dee"), viewer),
    "uptime monitors add": case(words(*UPTIME_MONITOR)),
    "uptime monitors pause": case(
        words("uptime", "monitors", "pause", "portal"), run(*UPTIME_MONITOR)
    ),
    "uptime slo add": case(words("uptime", "slo", "add", "Portal", "--org", "RAA")),
    "uptime incidents open": case(words(*UPTIME_INCIDENT)),
    "uptime incidents update": case(
        words("uptime", "incidents", "update", "1", "--status", "resolved"), run(*UPTIME_INCIDENT)
    ),
    "uptime maintenance add": case(
        words(
            "uptime",
            "maintenance",
            "add",
            "--start",
            "2026-12-07T02:00",
            "--minutes",
            "30",
            "--service",
            "Portal",
            "--org",
            "RAA",
        )
    ),
    "uptime pages add": case(
        words("uptime", "pages", "add", "portal", "--title", "P", "--org", "RAA", "--service", "P")
    ),
}

READ_ONLY = {
    "advisories alert", "advisories alerts", "advisories feeds list", "advisories list",
    "advisories org-view", "advisories overdue", "advisories preview", "advisories respond list",
    "advisories show", "advisories view", "alerts list", "alerts show", "alerts history",
    "assure frameworks list", "assure returns list", "assure returns show",
    "assure returns export", "assure score", "assure dashboard", "audit export", "audit list",
    "assure reviews list", "assure reviews show", "assure plan list", "archive holds list",
    "cases list", "cases show", "cases stats", "passwords stats", "boundary formats",
    "boundary rejects", "boundary sources", "boundary status", "exposures list", "scan findings", "scan show",
    "scan exceptions", "scan due", "scan report", "scan national",
    "behaviour results", "behaviour show", "behaviour allow list",
    "hunt", "intel allow list", "intel devices list", "intel feeds history", "intel feeds list",
    "intel feeds types", "intel list", "intel policies list", "intel policies show", "intel show",
    "intel sightings", "inventory list", "orgs export", "orgs list", "orgs show", "rules check",
    "rules list", "rules show", "rules test", "tokens list", "users list", "users show", "version",
    "demo traffic",  # writes log files into a folder; stores nothing
    "uptime monitors list", "uptime monitors show", "uptime slo list", "uptime slo show",
    "uptime report", "uptime incidents list", "uptime maintenance list",
    "uptime traffic", "uptime certificates",
    "uptime probe",  # probes once and prints the result; stores nothing
}  # fmt: skip

# The data plane: events, their archive and the alerts they raise. Each run keeps its own
# ledger (sources and checkpoints, the archive's partitions, the retro-hunt mark); they are
# not changes someone makes to the platform's configuration.
NOT_AUDITED = {
    "boundary ingest": "event data; each file's progress is its source's checkpoint",
    "boundary follow": "event data; each file's progress is its source's checkpoint",
    "boundary listen": "event data from syslog, recorded as its sources",
    "boundary publish": "sends raw batches to NATS; stores nothing itself",
    "boundary worker": "event data from NATS, recorded as its sources",
    "archive compact": "moves archived batches between Parquet partitions",
    "archive retain": "applies archive_retention_days through the deletion `archive prune` "
    "audits (one event per day removed), tested there",
    "alerts import-defender": "raises alerts from an outside source, as ingest does from logs",
    "intel retrohunt": "raises alerts over archived events; its mark records each run",
    "assure drift": "one event per return whose drift flags change, none when nothing is "
    "contradicted (tests/assure/test_drift.py covers a flag); raises alerts as detectors do",
    "cases remind": "sends reminders, each recorded as a notification; changes no case",
    "passwords build": "writes the breached-password store, public breach data, not a record",
    "passwords update": "adds public breach data to the breached-password store",
    "passwords check": "counts the check's reason per day; a trail of who checked would be a leak",
    "scan canary": "stores DNS lookups of canary names: observations, not changes",
    "init": "creates the schema (its --demo load records the federation it loads)",
    "demo uptime": "probes the demo's local stand-ins; probe results are measurements",
    "uptime agent": "probe results are measurements, published to NATS like raw log batches",
    "uptime centre": "takes in probe results; its automatic incidents are audited as the scheduler",
    "serve": "runs the web app, whose routes are audited by tests/web/test_audit_completeness",
}


def test_every_command_is_classified() -> None:
    classified = set(MUTATING) | READ_ONLY | set(NOT_AUDITED)
    missing = commands() - classified
    assert not missing, f"commands not classified as mutating or read-only: {sorted(missing)}"
    stale = classified - commands()
    assert not stale, f"classified commands that no longer exist: {sorted(stale)}"
    assert not set(MUTATING) & (READ_ONLY | set(NOT_AUDITED))
    assert not READ_ONLY & set(NOT_AUDITED)


@pytest.fixture(scope="session")
def one_trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory after `bastion init` and one trust (RAA, with a contact), made once.

    Each test starts from a copy: running the three commands costs a second a test.
    """
    folder = tmp_path_factory.mktemp("one-trust")
    with pytest.MonkeyPatch.context() as patch, bastion_in(folder, patch) as bastion:
        ok(bastion("init"))
        ok(bastion("orgs", "add", "RAA", "Alpha Trust", "--type", "trust"))
        ok(bastion("orgs", "add-contact", "RAA", "Lead", "security@raa.example"))
    return folder / "data"


@pytest.fixture
def cli(
    one_trust: Path,
    bastion: Run,
    tmp_path: Path,
    shared_data: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Run]:
    """A fresh database with one trust (RAA, with a contact); e-mail goes nowhere."""
    monkeypatch.setenv("BASTION_SMTP_PORT", str(closed_port()))
    shutil.copytree(one_trust, tmp_path / "data")
    yield bastion
    for server in SERVERS:
        server.shutdown()
        server.server_close()
    SERVERS.clear()


def trail(cli: Run) -> list[dict[str, object]]:
    return json.loads(ok(cli("audit", "list", "--limit", "100000", "--json")))  # type: ignore[no-any-return]


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(MUTATING))
def test_each_mutating_command_leaves_one_audit_event(
    cli: Run, tmp_path: Path, shared_data: Path, command: str
) -> None:
    steps = MUTATING[command]
    for step in steps.before:
        step(cli, tmp_path, shared_data)
    argv = steps.argv(tmp_path, shared_data)
    before = trail(cli)
    out = ok(cli(*argv))
    after = trail(cli)
    new = after[: len(after) - len(before)]
    wanted = steps.changes(out)
    assert len(new) == wanted, f"`bastion {' '.join(argv)}` recorded {[e['action'] for e in new]}"
    assert {e["actor"] for e in new} == {f"cli:{getpass.getuser()}"}
