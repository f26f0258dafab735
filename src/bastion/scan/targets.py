"""What may be scanned: only what the federation registry says a member owns.

A target is a registered host (by name or address) or, where the organisation has
opted in, an address in one of its registered networks. Anything else is refused
with the reason. Private, loopback and link-local addresses are refused too unless
the setting ``scan_allow_private`` is on (tests and the demo turn it on; a
national scanner on the internet never needs it).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import orgs
from bastion.core.errors import InputError
from bastion.scan.models import ScanPolicyRow

# Addresses no member's internet-facing service has: RFC 1918, shared (CGNAT), loopback,
# link-local and unique-local IPv6.
PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
        "169.254.0.0/16", "::1/128", "fc00::/7", "fe80::/10",
    )
)  # fmt: skip
MAX_RANGE_ADDRESSES = 4096  # an opted-in network larger than a /20 is scanned as its first 4096


class TargetRefused(InputError):
    """The target is not one Bastion may scan; the message says why."""

    http_status = 403


@dataclass(frozen=True)
class Target:
    """One scannable host: its normal name (``host``), the address to connect to, the name to ask for."""

    org: str
    host: str  # the registered name, else the address: the finding's normal form
    address: str
    server_name: str | None  # for SNI, Host: and DNS checks; None for a bare address


def _address_allowed(address: str, allow_private: bool) -> str | None:
    """Return why ``address`` may not be scanned, or None when it may."""
    ip = ipaddress.ip_address(address)
    private = any(ip.version == n.version and ip in n for n in PRIVATE)
    if private and not allow_private:
        return (
            f"{address} is a private or loopback address; "
            "set scan_allow_private to scan such addresses (tests and demos only)"
        )
    if ip.is_multicast or ip.is_unspecified:
        return f"{address} is a multicast or unspecified address"
    return None


def _resolve(name: str) -> str:
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        msg = f"{name} does not resolve ({exc}); register its address with the host"
        raise TargetRefused(msg) from None
    return str(infos[0][4][0])


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _checked(target: Target, allow_private: bool) -> Target:
    reason = _address_allowed(target.address, allow_private)
    if reason:
        msg = f"refused {target.host} ({target.org}): {reason}"
        raise TargetRefused(msg)
    return target


def _host_targets(org: orgs.Organisation) -> list[Target]:
    found = []
    for host in org.hosts:
        name = host.hostname
        if _is_address(name):
            found.append(Target(org.code, name, name, None))
        else:
            found.append(Target(org.code, name, host.address or "", name))
    return found


def _opted_in(session: Session) -> set[str]:
    return set(session.scalars(select(ScanPolicyRow.org_code).where(ScanPolicyRow.scan_ranges)))


def _range_targets(org: orgs.Organisation, known: set[str]) -> list[Target]:
    found = []
    for cidr in org.networks:
        network = ipaddress.ip_network(cidr)
        hosts = network.hosts() if network.num_addresses > 2 else iter(network)
        for count, ip in enumerate(hosts):
            if count >= MAX_RANGE_ADDRESSES:
                break
            if str(ip) not in known:
                found.append(Target(org.code, str(ip), str(ip), None))
    return found


def organisation_targets(
    session: Session, codes: Iterable[str] | None = None, *, allow_private: bool
) -> tuple[list[Target], list[str]]:
    """Return the targets of the organisations (all when ``codes`` is None) and the refusals."""
    organisations, _ = orgs.list_organisations(
        session, codes=None if codes is None else list(codes)
    )
    ranges = _opted_in(session)
    targets: list[Target] = []
    refused: list[str] = []
    for org in organisations:
        hosts = _host_targets(org)
        if org.code in ranges:
            hosts += _range_targets(org, {t.address for t in hosts})
        for target in hosts:
            try:
                address = target.address or _resolve(target.host)
                targets.append(
                    _checked(
                        Target(target.org, target.host, address, target.server_name), allow_private
                    )
                )
            except TargetRefused as exc:
                refused.append(str(exc))
    return targets, refused


def resolve_target(session: Session, spec: str, *, allow_private: bool) -> list[Target]:
    """Return the targets ``spec`` names: an organisation's code, a registered host, an address.

    Raise TargetRefused, with the reason, for anything outside every member's registry.
    """
    text = spec.strip().lower().rstrip(".")
    if not text:
        msg = "name an organisation, a registered host or an address to scan"
        raise TargetRefused(msg)
    if orgs.organisation_ids(session, [text.upper()]):
        targets, refused = organisation_targets(
            session, [text.upper()], allow_private=allow_private
        )
        if not targets and refused:
            raise TargetRefused("; ".join(refused))
        return targets
    organisations, _ = orgs.list_organisations(session)
    for org in organisations:
        for target in _host_targets(org):
            if text in (target.host, target.address):
                address = target.address or _resolve(target.host)
                return [
                    _checked(
                        Target(org.code, target.host, address, target.server_name), allow_private
                    )
                ]
    if _is_address(text):
        ip = ipaddress.ip_address(text)
        ranges = _opted_in(session)
        for cidr, code in orgs.all_networks(session):
            if ip in ipaddress.ip_network(cidr):
                if code not in ranges:
                    msg = (
                        f"refused {text}: it is in {cidr} of {code}, which has not opted in to "
                        "scanning its ranges (register the host, or `bastion scan policy "
                        f"{code} --ranges`)"
                    )
                    raise TargetRefused(msg)
                return [_checked(Target(code, text, text, None), allow_private)]
    msg = (
        f"refused {spec}: it is not a registered host, address or opted-in network of any "
        "member organisation (register it with `bastion orgs add-host`)"
    )
    raise TargetRefused(msg)
