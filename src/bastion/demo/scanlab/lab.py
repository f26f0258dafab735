"""The scan lab: members' hosts played by real servers on loopback, each with planted weaknesses.

``start_lab`` starts every server on its own 127.0.53.x address and a free port,
and returns the hosts (organisation, name, address) with what was planted on
each, so a test can assert that each weakness is found with its severity and
nothing is found on the good hosts; the demo registers the same hosts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bastion.demo.scanlab.certs import LabCa
from bastion.demo.scanlab.dkimkeys import dkim_record
from bastion.demo.scanlab.dnsserver import LabDns, dns_server
from bastion.demo.scanlab.servers import (
    GOOD_HEADERS,
    Running,
    Site,
    banner_server,
    http_server,
    rdp_answer,
    redis_answer,
    tls_context,
)

DOMAIN = "lab.test"
PREFIX = "127.0.53."
VULNERABLE_APACHE = "Apache/2.4.49 (Unix)"  # CVE-2021-41773, on the KEV list
OCSP_URL = f"http://ocsp.{DOMAIN}/"  # named in a certificate, never asked (sslyze reads staples)
# What a 2015-era TLS setting fails of Mozilla's intermediate profile (compat.hillside).
COMPAT_FAILS = ("ciphers", "tls_curves", "maximum_certificate_lifespan", "ocsp_staple")


@dataclass(frozen=True)
class LabHost:
    """A lab host: who owns it, where it is, and the (check, detail, severity) planted on it."""

    org: str
    hostname: str
    address: str
    planted: tuple[tuple[str, str, str], ...] = ()


# Organisations of the lab: code, name, type, parent.
ORGANISATIONS = (
    ("Y56LAB", "Lab London region", "region", None),
    ("QLAB1", "Lab North Central ICB", "icb", "Y56LAB"),
    ("F83LAB1", "Lab Riverside Surgery", "gp_practice", "QLAB1"),
    ("F83LAB2", "Lab Hillside Medical Centre", "gp_practice", "QLAB1"),
)

# The DKIM selectors each lab organisation registers ("selector@domain": that domain only).
DKIM_HOST = f"dkim.hillside.{DOMAIN}"
DKIM_SELECTORS = {
    "F83LAB2": tuple(f"{s}@{DKIM_HOST}" for s in ("s2048", "s1024", "s512", "beta", "gone")),
}

ZONE = f"""
$TTL 300
@ SOA ns.{DOMAIN}. hostmaster.{DOMAIN}. 1 3600 600 86400 300
@ NS ns.{DOMAIN}.
ns A 127.0.0.1
good.riverside MX 10 mx.good.riverside.{DOMAIN}.
good.riverside TXT "v=spf1 mx -all"
_dmarc.good.riverside TXT "v=DMARC1; p=reject; rua=mailto:dmarc@riverside.{DOMAIN}"
mail.hillside MX 10 mx.mail.hillside.{DOMAIN}.
old.riverside CNAME gone.nowhere.{DOMAIN}.
zone.hillside A {PREFIX}13
zone.hillside NS ns.{DOMAIN}.
dkim.hillside MX 10 mx.dkim.hillside.{DOMAIN}.
dkim.hillside TXT "v=spf1 mx -all"
_dmarc.dkim.hillside TXT "v=DMARC1; p=quarantine"
"""


def _dkim_zone() -> str:
    """The lab's DKIM keys: a good one where common selectors find it, and planted mistakes."""
    return "\n".join(
        [
            f"selector1._domainkey.good.riverside TXT {dkim_record(2048)}",
            f"s2048._domainkey.dkim.hillside TXT {dkim_record(2048)}",
            f"s1024._domainkey.dkim.hillside TXT {dkim_record(1024)}",
            f"s512._domainkey.dkim.hillside TXT {dkim_record(512)}",
            f"beta._domainkey.dkim.hillside TXT {dkim_record(2048, testing=True)}",
            "",
        ]
    )


@dataclass
class Lab:
    """The running lab: its hosts, the ports its servers use, the CA and the DNS server."""

    hosts: list[LabHost]
    ports: list[int]
    ca_file: Path
    dns_address: str
    running: list[Running] = field(default_factory=list)

    def close(self) -> None:
        for server in self.running:
            server.close()

    def host(self, name: str) -> LabHost:
        return next(h for h in self.hosts if h.hostname.startswith(f"{name}."))


def _name(label: str) -> str:
    return f"{label}.{DOMAIN}"


def start_lab(folder: Path, canary: tuple[str, int] | None = None) -> Lab:
    """Start every lab server; ``canary`` is where the Log4Shell stub looks JNDI names up."""
    ca = LabCa(folder)
    running: list[Running] = []
    hosts: list[LabHost] = []
    good = Site(
        pages={"/": (200, {"Content-Type": "text/html"}, b"<html>Welcome</html>")},
        headers=GOOD_HEADERS,
    )

    def add(label: str, org: str, octet: int, *planted: tuple[str, str, str]) -> str:
        hosts.append(LabHost(org, _name(label), f"{PREFIX}{octet}", tuple(planted)))
        return f"{PREFIX}{octet}"

    address = add("good.riverside", "F83LAB1", 1)
    running.append(
        http_server(address, good, tls_context(ca.leaf("good", _name("good.riverside"))))
    )
    address = add("expired.riverside", "F83LAB1", 2, ("tls", "expired", "critical"))
    running.append(
        http_server(
            address, good, tls_context(ca.leaf("expired", _name("expired.riverside"), expired=True))
        )
    )
    address = add("selfsigned.riverside", "F83LAB1", 3, ("tls", "untrusted", "high"))
    running.append(
        http_server(
            address,
            good,
            tls_context(ca.leaf("selfsigned", _name("selfsigned.riverside"), self_signed=True)),
        )
    )
    address = add("weakkey.hillside", "F83LAB2", 4, ("tls", "weak-key", "high"))
    running.append(
        http_server(
            address, good, tls_context(ca.leaf("weakkey", _name("weakkey.hillside"), bits=1024))
        )
    )
    address = add(
        "legacy.hillside", "F83LAB2", 5,
        ("tls", "old-protocol", "medium"), ("tls", "mozilla:ciphers", "low"),
    )  # fmt: skip
    running.append(
        http_server(
            address, good, tls_context(ca.leaf("legacy", _name("legacy.hillside")), tls10_only=True)
        )
    )
    bare = Site(
        pages={
            "/": (
                200,
                {"Content-Type": "text/html", "Server": VULNERABLE_APACHE},
                b"<html>Practice website</html>",
            )
        }
    )
    address = add(
        "www.hillside", "F83LAB2", 6,
        ("headers", "security-headers", "medium"), ("software", "apache:http_server", "critical"),
    )  # fmt: skip
    running.append(http_server(address, bare))
    running.append(http_server(address, bare))  # the same site on a second port: still one finding
    address = add("intranet.riverside", "F83LAB1", 7)
    running.append(
        http_server(address, good, tls_context(ca.leaf("intranet", _name("intranet.riverside"))))
    )
    https_port = running[-1].port
    redirect = Site(
        pages={
            "/": (301, {"Location": f"https://{_name('intranet.riverside')}:{https_port}/"}, b"")
        }
    )
    running.append(http_server(address, redirect))  # plain HTTP that sends visitors to HTTPS
    leaky = Site(
        pages={
            **good.pages,
            "/.git/HEAD": (200, {"Content-Type": "text/plain"}, b"ref: refs/heads/main\n"),
            "/.env": (
                200,
                {"Content-Type": "text/plain"},
                b"DB_HOST=localhost\nDB_PASSWORD=hunter2\nAPP_KEY=base64:abc\n",
            ),
        },
        headers=GOOD_HEADERS,
    )
    address = add(
        "git.hillside",
        "F83LAB2",
        8,
        ("files", "git:/.git/HEAD", "high"),
        ("files", "env:/.env", "high"),
    )
    running.append(http_server(address, leaky, tls_context(ca.leaf("git", _name("git.hillside")))))
    address = add(
        "remote.riverside",
        "F83LAB1",
        9,
        ("ports", "exposed:rdp", "high"),
        ("ports", "exposed:redis", "critical"),
    )
    running.append(banner_server(address, rdp_answer))
    running.append(banner_server(address, redis_answer))
    stub = Site(pages=good.pages, headers=GOOD_HEADERS, canary_dns=canary)
    address = add(
        "portal.riverside",
        "F83LAB1",
        10,
        *((("log4shell", "jndi-callback", "critical"),) if canary else ()),
    )
    running.append(
        http_server(address, stub, tls_context(ca.leaf("portal", _name("portal.riverside"))))
    )
    address = add(
        "compat.hillside",
        "F83LAB2",
        14,
        *(("tls", f"mozilla:{rule}", "low") for rule in COMPAT_FAILS),
    )
    compat = ca.leaf("compat", _name("compat.hillside"), days=825, ocsp_url=OCSP_URL)
    running.append(http_server(address, good, tls_context(compat, mozilla=False)))
    add(
        "mail.hillside", "F83LAB2", 11,
        ("mail", "spf", "medium"), ("mail", "dmarc", "medium"), ("mail", "dkim:none-found", "low"),
    )  # fmt: skip
    add(
        "dkim.hillside", "F83LAB2", 15,
        ("mail", "dkim:weak-key:s1024", "medium"), ("mail", "dkim:weak-key:s512", "high"),
        ("mail", "dkim:testing:beta", "low"), ("mail", "dkim:missing:gone", "medium"),
    )  # fmt: skip
    add("old.riverside", "F83LAB1", 12, ("mail", "dangling-cname", "high"))
    add("zone.hillside", "F83LAB2", 13, ("mail", "zone-transfer", "high"))
    udp, tcp = dns_server(
        f"{PREFIX}53", LabDns(ZONE + _dkim_zone(), DOMAIN, {_name("zone.hillside")})
    )
    running += [udp, tcp]
    ports = sorted({r.port for r in running if r not in (udp, tcp)})
    return Lab(hosts, ports, ca.ca_file, f"{PREFIX}53:{udp.port}", running)


class LabProcess:
    """The lab in a child process (see ``python -m bastion.demo.scanlab``): close() stops it."""

    def __init__(self, folder: Path, canary: tuple[str, int] | None = None) -> None:
        import json
        import subprocess
        import sys

        args = [sys.executable, "-m", "bastion.demo.scanlab", str(folder)]
        if canary:
            args.append(f"{canary[0]}:{canary[1]}")
        self.process = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        described = json.loads(self.process.stdout.readline())
        self.lab = Lab(
            hosts=[
                LabHost(
                    h["org"], h["hostname"], h["address"], tuple(tuple(p) for p in h["planted"])
                )
                for h in described["hosts"]
            ],
            ports=described["ports"],
            ca_file=Path(described["ca_file"]),
            dns_address=described["dns_address"],
        )

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(10)
        except Exception:
            self.process.kill()
            self.process.wait(10)
        finally:  # the pipe it described the lab on; left open, GC warns in whoever runs next
            if self.process.stdout is not None:
                self.process.stdout.close()
