"""Cisco ASA (and Firepower Threat Defense) syslog messages ("cisco-asa").

A line is an optional syslog header (ASA writes ``Nov 25 2026 13:01:02 asa01 :``
when ``logging timestamp`` and ``logging device-id`` are on) and a message
``%ASA-<level>-<id>: <text>``; the tag may name a class (``%ASA-session-5-106100:``),
the colon after the id may be missing, and a syslog relay may wrap the message as
``message repeated N times: [ … ]`` (the inner message is read). Read, one pattern
per family of ids, each applied with ``str.extract_groups`` on the rows of those ids:

- 302013/302015 Built inbound|outbound TCP|UDP connection; 302014/302016 Teardown
- 305011/305012 Built|Teardown dynamic|static translation (the mapped side is NAT)
- 106023 Deny … by access-group; 106001, 106006, 106015 inbound denies
- 106100 access-list permitted|denied|est-allowed; 710003 TCP|UDP access denied by ACL
- 313004 Denied ICMP, 313005 ICMP error without a connection (outer addresses only:
  the inner packet's ports are not the connection's)
- authentication: 113004/113005/113015 AAA user authentication, 605004/605005 login
  denied|permitted, 611101/611102 user authentication succeeded|failed. These are
  ``event.category`` ``authentication`` with ``event.outcome`` success or failure, and
  the user name exactly as logged (whatever it holds: ``${jndi:…}`` is evidence).

Other ids are rejected as "ASA message N is not read". Time and host come from the
syslog header only: a line without one (``logging timestamp`` off) has no ``@timestamp``.

Verdicts come from one table (``VERDICTS``) of the device's action words; a word not
in it leaves ``event.type`` null. Identity-firewall users after an address
(``(LOCAL\\alice)``, ``(alice)``) or after a teardown's byte count are ``user.name``
(and ``user.domain`` before a backslash) for the source side and
``destination.user.name`` for the destination side. The mapped address in a
connection message (``for outside:IP/PORT (MAPPED/PORT)``) is that side's
``*.nat.ip``/``*.nat.port``, as the device logs it.

A side named by a network object instead of an address (``dmz:OCSP_Server/80``) has
a null IP: a name is never put in an address column. The destination's name goes to
``url.domain`` (the schema's one host-name column for the far side, lower-cased); a
source's name is kept only in ``event.original``.

Which side started a connection: a Built message says (inbound: the ``for`` side;
outbound: the ``to`` side). A Teardown message does not; the side on the lower
port is taken as the server, the usual reading of a client/server connection.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from bastion.boundary.parsers.base import ParseContext, Parser, ParseResult, clip
from bastion.boundary.parsers.fields import (
    domain,
    integer,
    ip_address,
    not_number,
    null_if_blank,
    transport,
    verdict,
)
from bastion.boundary.parsers.results import (
    ORIGINAL,
    Check,
    empty_result,
    fill_where,
    finish_checked,
    line_frame,
    with_numbers,
)
from bastion.boundary.parsers.sniffing import sniffer
from bastion.boundary.syslog import split_syslog

# The device's action words (lower-case) and the verdict each means; others are null.
VERDICTS = {
    "built": "allowed",
    "teardown": "allowed",
    "permitted": "allowed",
    "est-allowed": "allowed",
    "successful": "allowed",
    "succeeded": "allowed",
    "deny": "denied",
    "denied": "denied",
    "discarded": "denied",
    "dropped": "denied",
    "rejected": "denied",
    "failed": "denied",
    "no matching connection": "denied",
}
ALLOWED = [word for word, meaning in VERDICTS.items() if meaning == "allowed"]
DENIED = [word for word, meaning in VERDICTS.items() if meaning == "denied"]

_IF = r"[A-Za-z0-9_.-]+"  # an interface's nameif
_IP = r"[0-9A-Fa-f.:]+"
_HOST = r"[^ /()]+"  # an address, or a network object's name
_OBJECT_NAME = r"^[A-Za-z_][A-Za-z0-9_.-]*$"  # a network object's name, never an address
_IDS = r"(?: ?\([^)]*\))*"  # identity-firewall users or FQDN groups after an address
_FOLLOWING = r"(?: |\([^)]*\))*"  # the same with the spaces around them, one-pass
# The user in what follows an address: its first parenthesis, unless it holds a "/".
_FIRST_USER = r"^ *\(([^)/]*)\)"
_TAG = r"%(?P<product>ASA|FTD)(?:-[A-Za-z]+)?-(?P<level>[0-7])-(?P<id>[0-9]{6})(?::| |$)"
_REPEATED = r"^message repeated [0-9]+ times: \[ *(.*?) *\]$"
_GROUPS = (
    "proto",
    "a_ip",
    "a_port",
    "a_nat_ip",
    "a_nat_port",
    "a_user",
    "b_ip",
    "b_port",
    "b_nat_ip",
    "b_nat_port",
    "b_user",
    "user",
    "dir",
    "bytes",
    "acl",
    "verb",
)


def _side(name: str, *, nat: bool = False) -> str:
    """Return ``IF:HOST/PORT [(MAPPED/PORT)]`` then what follows it up to the next word.

    What follows (identity-firewall users, FQDN groups, spaces) is captured whole as
    ``{name}_ids``; the user is read from it afterwards (``_with_users``). Written so
    that at every byte only one branch of the pattern can go on (no optional space before
    a repeated group): the regex engine then runs its one-pass matcher, two to three times as
    fast as the general one on these, the most frequent messages.
    """
    pattern = rf"{_IF}:(?P<{name}_ip>{_HOST})/(?P<{name}_port>[0-9]+)"
    if nat:
        pattern += rf" \((?P<{name}_nat_ip>{_HOST})/(?P<{name}_nat_port>[0-9]+)\)"
    return pattern + rf"(?P<{name}_ids>{_FOLLOWING})"


@dataclass(frozen=True)
class Family:
    """Message ids sharing one layout; ``a``/``b`` are the first and second address in it.

    Every pattern captures ``verb`` (the action word): a message whose pattern did not
    match has none, and is rejected with ``layout``.
    """

    ids: tuple[str, ...]
    pattern: str
    layout: str  # the layout, for the reject reason when a message does not follow it
    authentication: bool = False


_AUTH_USER = r"(?P<user>.*)"  # verbatim, to the end of the message

FAMILIES = (
    Family(
        ("302013", "302015"),
        rf"^(?P<verb>Built) (?P<dir>inbound|outbound) (?P<proto>TCP|UDP) connection [0-9]+ for "
        rf"{_side('a', nat=True)}to {_side('b', nat=True)}",
        "Built inbound|outbound TCP|UDP connection ID for IF:IP/PORT (IP/PORT) to IF:IP/PORT "
        "(IP/PORT)",
    ),
    Family(
        ("302014", "302016"),
        rf"^(?P<verb>Teardown) (?P<proto>TCP|UDP) connection [0-9]+ for {_side('a')}to "
        rf"{_side('b')}duration [0-9]+:[0-9]{{2}}:[0-9]{{2}} bytes (?P<bytes>[0-9]+)"
        r"(?:(?:[^0-9(][^(]*)?\((?P<user>[^)]*)\))?",
        "Teardown TCP|UDP connection ID for IF:IP/PORT to IF:IP/PORT duration H:MM:SS bytes N",
    ),
    Family(
        ("305011", "305012"),
        r"^(?P<verb>Built|Teardown) (?:dynamic|static) (?P<proto>TCP|UDP|ICMP) translation from "
        rf"{_IF}:(?P<a_ip>{_HOST})/(?P<a_port>[0-9]+){_IDS} to "
        rf"{_IF}:(?P<a_nat_ip>{_HOST})/(?P<a_nat_port>[0-9]+)",
        "Built|Teardown dynamic|static TCP|UDP|ICMP translation from IF:IP/PORT to IF:IP/PORT",
    ),
    Family(
        ("106023",),
        rf"^(?P<verb>Deny) (?P<proto>[A-Za-z0-9-]+) src {_IF}:(?P<a_ip>{_HOST})"
        rf"(?:/(?P<a_port>[0-9]+))?{_FOLLOWING}dst {_IF}:(?P<b_ip>{_HOST})"
        rf"(?:/(?P<b_port>[0-9]+))?(?: |\([^)]*\)|type [0-9]+, code [0-9]+)*"
        r"by access-group \"(?P<acl>[^\"]*)\"",
        'Deny PROTO src IF:IP[/PORT] dst IF:IP[/PORT] [(type N, code N)] by access-group "ACL"',
    ),
    Family(
        ("106001",),
        rf"^Inbound (?P<proto>TCP|UDP) connection (?P<verb>denied) from "
        rf"(?P<a_ip>{_IP})/(?P<a_port>[0-9]+) to (?P<b_ip>{_IP})/(?P<b_port>[0-9]+) ",
        "Inbound TCP connection denied from IP/PORT to IP/PORT flags FLAGS on interface IF",
    ),
    Family(
        ("106006",),
        rf"^(?P<verb>Deny) inbound (?P<proto>UDP|TCP) from (?P<a_ip>{_IP})/(?P<a_port>[0-9]+)"
        rf" to (?P<b_ip>{_IP})/(?P<b_port>[0-9]+)",
        "Deny inbound UDP from IP/PORT to IP/PORT on interface IF",
    ),
    Family(
        ("106015",),
        rf"^(?P<verb>Deny) (?P<proto>TCP|UDP) \(no connection\) from "
        rf"(?P<a_ip>{_IP})/(?P<a_port>[0-9]+) to (?P<b_ip>{_IP})/(?P<b_port>[0-9]+)",
        "Deny TCP (no connection) from IP/PORT to IP/PORT flags FLAGS on interface IF",
    ),
    Family(
        ("106100",),
        rf"^access-list (?P<acl>[^ ]+) (?P<verb>permitted|denied|est-allowed) "
        rf"(?P<proto>[A-Za-z0-9-]+) {_IF}/(?P<a_ip>{_HOST})\((?P<a_port>[0-9]+)\)"
        rf"(?: ?\((?P<a_user>[^)/]*)\))?{_IDS} -> {_IF}/(?P<b_ip>{_HOST})\((?P<b_port>[0-9]+)\)"
        rf"(?: ?\((?P<b_user>[^)/]*)\))?",
        "access-list ACL permitted|denied|est-allowed PROTO IF/IP(PORT) -> IF/IP(PORT)",
    ),
    Family(
        ("710003",),
        rf"^(?P<proto>TCP|UDP) access (?P<verb>denied) by ACL from (?P<a_ip>{_IP})/"
        rf"(?P<a_port>[0-9]+) to {_IF}:(?P<b_ip>{_IP})/(?:(?P<b_port>[0-9]+)|[A-Za-z-]+)",
        "TCP|UDP access denied by ACL from IP/PORT to IF:IP/PORT",
    ),
    Family(
        ("313004",),
        rf"^(?P<verb>Denied) (?P<proto>ICMP) type=[0-9]+, (?:code=[0-9]+, )?from "
        rf"(?:laddr )?(?P<a_ip>{_IP}) on interface {_IF} to (?P<b_ip>{_IP}?)(?::? |:?$)",
        "Denied ICMP type=N, [code=N, ]from [laddr ]IP on interface IF to IP",
    ),
    Family(
        ("313005",),
        rf"^(?P<verb>No matching connection) for ICMP error message: (?P<proto>icmp6?) src "
        rf"{_IF}:(?P<a_ip>{_IP}){_IDS} dst {_IF}:(?P<b_ip>{_IP}){_IDS} \(type [0-9]+, code "
        r"[0-9]+\)",
        "No matching connection for ICMP error message: icmp src IF:IP dst IF:IP (type N, code N)",
    ),
    Family(
        ("113004", "113005", "113015"),
        r"^AAA user authentication (?P<verb>Successful|Rejected)\b(?:[^:]*:)*? user = "
        rf"(?P<user>.*?)(?: : user IP = (?P<a_ip>{_IP}))?$",
        "AAA user authentication Successful|Rejected : … : user = USER[ : user IP = IP]",
        authentication=True,
    ),
    Family(
        ("605004", "605005"),
        rf"^Login (?P<verb>denied|permitted) from (?P<a_ip>{_IP})/(?P<a_port>[0-9]+) to "
        rf"{_IF}:(?P<b_ip>{_IP})/(?:(?P<b_port>[0-9]+)|[A-Za-z0-9-]+) for user "
        rf"\"{_AUTH_USER}\"$",
        'Login denied|permitted from IP/PORT to IF:IP/SERVICE for user "USER"',
        authentication=True,
    ),
    Family(
        ("611101", "611102"),
        rf"^User authentication (?P<verb>succeeded|failed): IP address: (?P<a_ip>{_IP}), "
        rf"Uname: {_AUTH_USER}$",
        "User authentication succeeded|failed: IP address: IP, Uname: USER",
        authentication=True,
    ),
)
SUPPORTED = sorted(i for family in FAMILIES for i in family.ids)
_FAMILY_OF = {i: n for n, family in enumerate(FAMILIES) for i in family.ids}
AUTHENTICATION = sorted(i for family in FAMILIES if family.authentication for i in family.ids)


def _fields(frame: pl.DataFrame, family: Family) -> pl.DataFrame:
    """Add the canonical groups of ``family``'s pattern (null when it has no such group)."""
    found = frame.select(pl.col("_text").str.extract_groups(family.pattern).alias("_m"))
    found = _with_users(found.unnest("_m"))
    groups = [
        (
            found.get_column(g)
            if g in found.columns
            else pl.repeat(None, frame.height, dtype=pl.String, eager=True)
        ).alias(g)
        for g in _GROUPS
    ]
    return frame.with_columns(groups).with_columns(
        pl.repeat(family.ids[0], frame.height, eager=True).alias("_family"),
        pl.repeat(family.layout, frame.height, eager=True).alias("_layout"),
    )


def _with_users(found: pl.DataFrame) -> pl.DataFrame:
    """Add ``a_user``/``b_user`` from what follows each address, where a pattern captured it.

    Read only on the rows where something in parentheses follows the address (few).
    """
    for side in ("a", "b"):
        ids = f"{side}_ids"
        if ids in found.columns:
            following = pl.col(ids)
            found = fill_where(
                found,
                following.str.contains("(", literal=True),
                {f"{side}_user": following.str.extract(_FIRST_USER, 1)},
            )
    return found


def _split_user(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Return (name, domain) of an identity-firewall user ``DOMAIN\\name`` or ``name``."""
    user = null_if_blank(raw)
    has_domain = user.str.contains("\\", literal=True)
    name = pl.when(has_domain).then(user.str.extract(r"\\(.*)$", 1)).otherwise(user)
    return name, pl.when(has_domain).then(user.str.extract(r"^([^\\]*)\\", 1))


def _result(frame: pl.DataFrame) -> ParseResult:
    """Check the extracted groups and map the good messages to the schema."""
    col = pl.col
    family = col("_family")
    proto = col("proto")
    frame = frame.with_columns(
        _icmp=(proto.str.starts_with("icmp") | proto.str.starts_with("ICMP")).fill_null(False)
    )
    is_icmp = col("_icmp")
    # An ICMP message's numbers are types, codes and ids, never ports.
    ports = {
        f"_{g}": (pl.when(~is_icmp).then(col(g)), pl.UInt16())
        for g in ("a_port", "b_port", "a_nat_port", "b_nat_port")
    }
    frame = with_numbers(frame, ports)
    # True where the second address is the connection's source (see the module docstring).
    second_is_source = (
        pl.when(family == "302013")
        .then(col("dir") == "outbound")
        .when(family == "302014")
        .then(col("_a_port") <= col("_b_port"))
        .otherwise(pl.lit(False))
    )
    a_name, a_domain = _split_user(col("a_user"))
    b_name, b_domain = _split_user(col("b_user"))
    frame = frame.with_columns(
        _swap=second_is_source.fill_null(False),
        _auth=family.is_in(AUTHENTICATION).fill_null(False),
        _a_addr=ip_address(col("a_ip")),
        _b_addr=ip_address(col("b_ip")),
        _a_nat=ip_address(col("a_nat_ip")),
        _b_nat=ip_address(col("b_nat_ip")),
    )
    # Users, object names and outcomes are in few messages: computed on those rows only.
    users = col("a_user").is_not_null() | col("b_user").is_not_null()
    names = {"_a_name": a_name, "_a_domain": a_domain, "_b_name": b_name, "_b_domain": b_domain}
    frame = fill_where(frame, users, names)
    swap = col("_swap")

    def source(a: str, b: str) -> pl.Expr:
        return pl.when(swap).then(col(b)).otherwise(col(a))

    def destination(a: str, b: str) -> pl.Expr:
        return pl.when(swap).then(col(a)).otherwise(col(b))

    product = col("_product")
    tag = pl.format("{} message {}", product, col("_id"))
    checks: list[Check] = [
        (col("_id").is_null(), "cisco-asa: no %ASA-<level>-<id>: message id in the line"),
        (col("_family").is_null(), pl.format("cisco-asa: {} is not read", tag)),
        (
            col("verb").is_null(),
            pl.format("cisco-asa: {} does not have the layout '{}'", tag, col("_layout")),
        ),
        (
            ~is_icmp
            & (
                not_number(col("a_port"), col("_a_port"))
                | not_number(col("b_port"), col("_b_port"))
                | not_number(col("a_nat_port"), col("_a_nat_port"))
                | not_number(col("b_nat_port"), col("_b_nat_port"))
            ),
            pl.format(
                "cisco-asa: a port of {}/{}/{}/{} is not a port number",
                *(
                    clip(col(g).fill_null("-"))
                    for g in ("a_port", "b_port", "a_nat_port", "b_nat_port")
                ),
            ),
        ),
    ]
    verb = col("verb").str.to_lowercase()
    frame = frame.with_columns(_verdict=verdict(verb, ALLOWED, DENIED))
    verdict_ = col("_verdict")
    outcome = verdict_.replace_strict({"allowed": "success", "denied": "failure"}, default=None)
    frame = fill_where(frame, col("_auth"), {"_outcome": outcome})
    frame = fill_where(
        frame,
        destination("a_ip", "b_ip").is_not_null() & destination("_a_addr", "_b_addr").is_null(),
        {
            "_object": pl.when(destination("a_ip", "b_ip").str.contains(_OBJECT_NAME)).then(
                domain(destination("a_ip", "b_ip"))
            )
        },
    )
    auth = col("_auth")
    # The user a message names on its own (a teardown's, an authentication's).
    user = pl.when(auth).then(col("user")).otherwise(null_if_blank(col("user")))
    fields = [
        col("syslog.timestamp").alias("@timestamp"),
        pl.lit("cisco.asa").alias("event.dataset"),
        verb.alias("event.action"),
        verdict_.alias("event.type"),
        pl.lit("Cisco").alias("observer.vendor"),
        product.alias("observer.product"),
        col("syslog.hostname").alias("observer.name"),
        source("_a_addr", "_b_addr").alias("source.ip"),
        source("_a_port", "_b_port").alias("source.port"),
        destination("_a_addr", "_b_addr").alias("destination.ip"),
        destination("_a_port", "_b_port").alias("destination.port"),
        source("_a_nat", "_b_nat").alias("source.nat.ip"),
        source("_a_nat_port", "_b_nat_port").alias("source.nat.port"),
        destination("_a_nat", "_b_nat").alias("destination.nat.ip"),
        destination("_a_nat_port", "_b_nat_port").alias("destination.nat.port"),
        # A destination named by a network object, not an address: its name, not its IP.
        col("_object").alias("url.domain"),
        pl.coalesce(source("_a_name", "_b_name"), user).alias("user.name"),
        pl.when(source("_a_name", "_b_name").is_not_null())
        .then(source("_a_domain", "_b_domain"))
        .alias("user.domain"),
        destination("_a_name", "_b_name").alias("destination.user.name"),
        transport(col("proto")).alias("network.transport"),
        integer(col("bytes"), pl.Int64()).alias("network.bytes"),
        col("acl").alias("rule.name"),
        pl.when(auth).then(pl.lit("authentication")).alias("event.category"),
        col("_outcome").alias("event.outcome"),
        col(ORIGINAL),
    ]
    return finish_checked(frame, checks, fields)


_sniff = sniffer(_TAG)


def parse_cisco_asa(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse Cisco ASA messages into the common schema."""
    frame = line_frame(lines)
    if not frame.height:
        return empty_result()
    header = split_syslog(
        frame.get_column(ORIGINAL),
        ctx.default_year,
        timezone=ctx.timezone,
        received=ctx.received,
    )
    message = header.get_column("message")
    # A relay's "message repeated N times: [ … ]" holds the message itself.
    repeated = message.str.starts_with("message repeated ").fill_null(False)
    if repeated.any():  # rare: spare every other batch the regex
        inner = message.filter(repeated).str.extract(_REPEATED, 1)
        message = message.scatter(repeated.arg_true(), inner.fill_null(message.filter(repeated)))
    tag = message.str.extract_groups(_TAG)
    frame = frame.with_columns(
        header.get_column("syslog.timestamp"),
        header.get_column("syslog.hostname"),
        tag.struct.field("product").alias("_product"),
        tag.struct.field("id").alias("_id"),
        message.str.replace(f"^.*?{_TAG} ?", "").alias("_text"),
    )
    # One pass splits the rows by family (-1: an id no family reads, or none).
    index = pl.col("_id").replace_strict(_FAMILY_OF, default=-1, return_dtype=pl.Int16)
    groups = frame.with_columns(index.fill_null(-1).alias("_index")).partition_by(
        "_index", as_dict=True
    )
    parts = [
        _fields(rows.drop("_index"), FAMILIES[int(key)]) if int(key) >= 0 else rows.drop("_index")
        for (key,), rows in groups.items()
    ]
    # One chunk per column: pl.format over columns chunked differently panics in Polars 1.44.
    frame = pl.concat(parts, how="diagonal_relaxed", rechunk=True)
    # A batch with no supported message has none of the family's columns: they are null.
    missing = [g for g in (*_GROUPS, "_family", "_layout") if g not in frame.columns]
    frame = frame.with_columns(
        pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias(g) for g in missing
    )
    return _result(frame)


PARSER = Parser(
    name="cisco-asa",
    description="Cisco ASA/FTD syslog: connections, translations, ACL denies, authentication",
    parse=parse_cisco_asa,
    sniff=_sniff,
)
