"""Certificates found expiring: each told once per organisation, certificate and threshold.

Every HTTPS, TLS and STARTTLS probe reports the certificate it met (its SHA-256
fingerprint and days left). Each cycle the centre hands the results it has just
decided to ``expiring``: one Polars group-by keeps, per organisation and
certificate, the fewest days left seen and the tightest warning threshold
(``uptime_cert_warn_days``) that is within. ``warn`` then tells each one whose
threshold has not been told yet, by every channel (``bastion.uptime.notify``,
which sends through ``bastion.core.delivery``), records the notice and audits it.
A certificate renewed is a new fingerprint, so its thresholds are told afresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.store.membership import one_of
from bastion.uptime.domain import Monitor
from bastion.uptime.models import CertificateNoticeRow
from bastion.uptime.notify import Notice, Notifier, notify

ACTOR = Actor.scheduler("uptime")


def expiring(raw: pl.DataFrame, monitors: pl.DataFrame, thresholds: Sequence[int]) -> pl.DataFrame:
    """Return, per organisation and certificate within a threshold: the tightest threshold,
    the fewest days left and the first monitor that met it (``raw``: probe results)."""
    steps = sorted(set(thresholds))
    columns = {"org": pl.String(), "sha256": pl.String(), "threshold": pl.Int64(),
               "days_left": pl.Float64(), "monitor": pl.Int64()}  # fmt: skip
    if not steps or raw.is_empty():
        return pl.DataFrame(schema=columns)
    days = pl.col("days_left")
    return (
        raw.lazy()
        .filter(pl.col("cert_sha256").is_not_null() & days.is_not_null())
        .group_by("monitor", "cert_sha256")
        .agg(days.min())
        .join(monitors.lazy().select("monitor", "org"), on="monitor")
        .with_columns(
            threshold=pl.coalesce([pl.when(days <= s).then(pl.lit(s, pl.Int64)) for s in steps])
        )
        .filter(pl.col("threshold").is_not_null())
        .group_by("org", pl.col("cert_sha256").alias("sha256"))
        .agg(pl.col("threshold").min(), days.min(), pl.col("monitor").min())
        .sort("org", "sha256")
        .select(pl.col(n).cast(t) for n, t in columns.items())
        .collect()
    )


@dataclass(frozen=True)
class CertificateNotice:
    org: str
    sha256: str
    threshold_days: int
    days_left: float
    monitor_id: int
    notified_at: datetime


def warn(
    session: Session,
    notifier: Notifier | None,
    found: pl.DataFrame,
    monitors: Mapping[int, Monitor],
    thresholds: Sequence[int],
    now: datetime,
) -> list[CertificateNotice]:
    """Tell each certificate in ``found`` (from ``expiring``) not yet told at its threshold."""
    if found.is_empty():
        return []
    told: set[tuple[str, str, int]] = {
        (org, sha256, step)
        for org, sha256, step in session.execute(
            select(
                CertificateNoticeRow.org_code,
                CertificateNoticeRow.sha256,
                CertificateNoticeRow.threshold_days,
            ).where(CertificateNoticeRow.sha256.in_(found["sha256"].unique().to_list()))
        )
    }
    notices = []
    for row in found.iter_rows(named=True):
        org, sha256, tightest, days = row["org"], row["sha256"], row["threshold"], row["days_left"]
        if (org, sha256, tightest) in told or row["monitor"] not in monitors:
            continue
        item = monitors[row["monitor"]]
        state = "has expired" if days < 0 else f"expires in {days:.1f} days"
        notify(session, notifier, Notice(
            "certificate", org, f"[CERTIFICATE] {item.service}: {item.name}'s certificate {state}",
            f"The TLS certificate of {item.name} ({item.target}) of {org}'s {item.service} "
            f"{state} (within the {tightest}-day warning). SHA-256 fingerprint {sha256}.",
            {"monitor": item.id, "service": item.service, "sha256": sha256,
             "days_left": days, "threshold_days": tightest},
        ))  # fmt: skip
        # Every looser threshold is told by this notice too: none of them comes later.
        for step in sorted(s for s in set(thresholds) if s >= tightest):
            if (org, sha256, step) not in told:
                session.add(CertificateNoticeRow(
                    org_code=org, sha256=sha256, threshold_days=step, monitor_id=item.id,
                    days_left=days, notified_at=now,
                ))  # fmt: skip
                told.add((org, sha256, step))
        audit.record(
            session, ACTOR, "uptime.certificate.expiring", f"monitor:{item.id}", org=org,
            after={"sha256": sha256, "days_left": days, "threshold_days": tightest},
        )  # fmt: skip
        notices.append(CertificateNotice(org, sha256, tightest, days, item.id, now))
    session.flush()
    return notices


def list_notices(session: Session, scope: Scope, limit: int = 200) -> list[CertificateNotice]:
    """Return the certificate notices ``scope`` sees, newest first."""
    query = (
        select(CertificateNoticeRow)
        .order_by(
            CertificateNoticeRow.notified_at.desc(),
            CertificateNoticeRow.threshold_days,
            CertificateNoticeRow.id.desc(),
        )
        .limit(limit)
    )
    if scope.codes is not None:
        query = query.where(one_of(CertificateNoticeRow.org_code, scope.codes))
    return [
        CertificateNotice(
            r.org_code, r.sha256, r.threshold_days, r.days_left, r.monitor_id, r.notified_at
        )
        for r in session.scalars(query)
    ]
