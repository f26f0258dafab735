"""How near a certificate's expiry the TLS check reports it, and how severely."""

from __future__ import annotations

from typing import Any, cast

import pytest

from bastion.core.types import Severity
from bastion.scan.checks import tls


def _expiry_findings(days_left: int) -> list[tuple[str, str, Severity]]:
    # a trusted certificate with a strong key: expiry is the only thing to report
    port = tls.TlsPort(443, None, days_left=days_left, trusted=True, key_type="EC", key_bits=256)
    observed = tls.observe(tls.TlsResult((port,)), cast(Any, None), cast(Any, None))
    return [(o.detail, o.title, o.severity) for o in observed if o.remediation == "tls_expired"]


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (-1, [("expired", "TLS certificate has expired", Severity.CRITICAL)]),
        (0, [("expiring", "TLS certificate expires in 0 days", Severity.HIGH)]),
        (7, [("expiring", "TLS certificate expires in 7 days", Severity.HIGH)]),
        (8, [("expiring", "TLS certificate expires in 8 days", Severity.MEDIUM)]),
        (30, [("expiring", "TLS certificate expires in 30 days", Severity.MEDIUM)]),
        (31, []),
    ],
)
def test_certificate_expiry_severity_steps_at_a_week_and_a_month(
    days_left: int, expected: list[tuple[str, str, Severity]]
) -> None:
    assert _expiry_findings(days_left) == expected
