"""The demo federation's address plan: non-overlapping blocks, plus nested ones on purpose.

Members' IPv4 blocks come from three /8s that are allocated but not routed on
the public internet, so they look public without being anyone's service:
trusts from 11/8 (a second block each from its upper half), ICBs, regions and
national bodies from 21/8, GP practices from 22.0/9 and care providers from 22.128/9. Each organisation's IPv6 /48 comes from the
documentation prefix 2001:db8::/32 (below 2001:db8:f000::, which the traffic
generator keeps for the internet side).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from bastion.core.errors import InputError

TRUST_POOL = "11.0.0.0/9"
TRUST_EXTRA_POOL = "11.128.0.0/9"
BODY_POOL = "21.0.0.0/8"
PRACTICE_POOL = "22.0.0.0/9"
CARE_POOL = "22.128.0.0/9"
MEMBER_V6 = "2001:db8::/32"
MEMBER_V6_LIMIT = 0xF000  # /48 indexes at or above this belong to the synthetic internet


class Pool:
    """Carve aligned blocks, in order, out of one network."""

    def __init__(self, cidr: str) -> None:
        network = ipaddress.IPv4Network(cidr)
        self.cidr = cidr
        self.next = int(network.network_address)
        self.end = int(network.broadcast_address) + 1

    def take(self, prefix: int, gap: int = 0) -> ipaddress.IPv4Network:
        """Return the next free /``prefix``, ``gap`` blocks after the last one taken."""
        size = 1 << (32 - prefix)
        start = -(-self.next // size) * size + gap * size
        if start + size > self.end:
            msg = f"address pool {self.cidr} is exhausted: ask for a smaller federation"
            raise InputError(msg)
        self.next = start + size
        return ipaddress.IPv4Network((start, prefix))


def member_v6(index: int) -> str:
    """Return the ``index``-th member IPv6 /48 of the documentation prefix."""
    if not 0 < index < MEMBER_V6_LIMIT:
        msg = f"IPv6 /48 index {index} is outside the demo's member range"
        raise InputError(msg)
    base = int(ipaddress.IPv6Network(MEMBER_V6).network_address)
    return str(ipaddress.IPv6Network((base + (index << 80), 48)))


def nested_block(outer: str, prefix: int, slot: int) -> str:
    """Return the ``slot``-th /``prefix`` counted back from the end of ``outer``.

    Hosted allocations are carved from the top of their host's block so the low
    addresses (where a host's own servers live) stay the host's.
    """
    network = ipaddress.ip_network(outer)
    size = 1 << (network.max_prefixlen - prefix)
    start = int(network.broadcast_address) + 1 - (slot + 1) * size
    if start < int(network.network_address) + network.num_addresses // 2:
        msg = f"no room for nested slot {slot} in {outer}"
        raise InputError(msg)
    return str(ipaddress.ip_network((start, prefix)))


def host_address(cidr: str, offset: int) -> str:
    """Return the address ``offset`` into ``cidr``."""
    network = ipaddress.ip_network(cidr)
    return str(network.network_address + offset)


def overlaps(owned: Iterable[tuple[str, str]]) -> list[tuple[str, str, str, str]]:
    """Return every (inner cidr, inner owner, outer cidr, outer owner) where one block holds another.

    ``owned`` is (cidr, organisation code) pairs. Identical blocks count as an
    overlap too (inner == outer), which a sound plan never has.
    """
    by_version: dict[int, list[tuple[int, int, str, str]]] = {4: [], 6: []}
    for cidr, code in owned:
        network = ipaddress.ip_network(cidr)
        first = int(network.network_address)
        by_version[network.version].append((first, first + network.num_addresses, cidr, code))
    found: list[tuple[str, str, str, str]] = []
    for blocks in by_version.values():
        # Sorted by start, widest first: a block can only be inside one that starts at or before it.
        blocks.sort(key=lambda b: (b[0], -b[1]))
        open_blocks: list[tuple[int, int, str, str]] = []
        for block in blocks:
            open_blocks = [b for b in open_blocks if b[1] > block[0]]
            found.extend(
                (block[2], block[3], outer[2], outer[3])
                for outer in open_blocks
                if outer[1] >= block[1]
            )
            open_blocks.append(block)
    return found
