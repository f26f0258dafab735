"""The thresholds and weights of the behavioural analytics, in one place (the README explains them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BehaviourConfig:
    """What the analytics count as a beacon, a long connection, a tunnel and a rare fingerprint."""

    window_hours: int = 24  # one day of the archive per run
    threshold: float = 0.7  # a result at or above it becomes an alert
    # Beacons: a pair needs this many connections in the window to be scored at all.
    beacon_min_connections: int = 12
    # The connection count scores 1 at one connection per this many minutes over the window.
    beacon_full_every_minutes: int = 15
    # Long connections: events of a pair no further apart than this are one session.
    session_gap_minutes: int = 5
    long_session_hours: float = 4.0  # a session at least this long is a long connection
    # DNS: the unique-subdomain count scores 1 at this many names under one registered domain.
    dns_full_subdomains: int = 500
    dns_min_subdomains: int = 20  # fewer unique names are never scored
    dns_full_length: int = 40  # mean subdomain length scoring 1
    dns_full_entropy: float = 4.0  # mean bits per character scoring 1
    # Rare fingerprints: seen at no more hosts than this federation-wide, and never before.
    rare_hosts: int = 2
    campaign_orgs: int = 3  # a new fingerprint at this many organisations in a day: a campaign
    lookback_days: int = 14  # "never before" means in this many days before the one analysed
    histogram_bins: int = 20

    @property
    def full_count(self) -> float:
        """Return the connection count that scores 1 over the window."""
        return max(2.0, self.window_hours * 60 / self.beacon_full_every_minutes)


DEFAULT_CONFIG = BehaviourConfig()
