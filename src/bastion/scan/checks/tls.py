"""TLS with sslyze: protocols, suites, certificate, Heartbleed, CCS, ROBOT; Mozilla; grade.

sslyze runs in a worker thread (it is synchronous and threaded itself); at most
``TLS_SCANS`` run at once in one process. The certificate is validated against
sslyze's trust stores plus ``scan_trust_ca_file`` when set. Compliance with
Mozilla's "intermediate" configuration is judged by sslyze's own checker
(``bastion.scan.checks.tlsprofile``).
"""

from __future__ import annotations

import asyncio
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bastion.core.types import Severity
from bastion.scan.checks import tlsprofile
from bastion.scan.checks.base import Check, Lookups, Probe
from bastion.scan.checks.tlsgrade import TlsFacts, grade
from bastion.scan.domain import Evidence, Observation

TLS_SCANS = 8
_PROTOCOLS = (
    ("ssl_2_0_cipher_suites", "SSL 2.0"),
    ("ssl_3_0_cipher_suites", "SSL 3.0"),
    ("tls_1_0_cipher_suites", "TLS 1.0"),
    ("tls_1_1_cipher_suites", "TLS 1.1"),
    ("tls_1_2_cipher_suites", "TLS 1.2"),
    ("tls_1_3_cipher_suites", "TLS 1.3"),
)


@dataclass(frozen=True)
class TlsPort:
    """What sslyze found on one TLS port."""

    port: int
    error: str | None
    protocols: tuple[str, ...] = ()
    ciphers: tuple[str, ...] = ()
    subject: str = ""
    issuer: str = ""
    names: tuple[str, ...] = ()
    not_after: str = ""
    days_left: int = 0
    self_signed: bool = False
    trusted: bool = False
    hostname_matches: bool = True
    key_type: str = ""
    key_bits: int = 0
    signature_hash: str = ""
    heartbleed: bool = False
    ccs_injection: bool = False
    grade: str = ""
    grade_reasons: tuple[str, ...] = ()
    robot: str = ""  # sslyze's ROBOT verdict: NOT_VULNERABLE_NO_ORACLE, VULNERABLE_STRONG_ORACLE…
    mozilla_intermediate_failures: dict[str, str] = field(default_factory=dict)  # rule: why


@dataclass(frozen=True)
class TlsResult:
    ports: tuple[TlsPort, ...]


def _matches(name: str | None, names: tuple[str, ...], address: str) -> bool:
    wanted = (name or address).lower()
    for pattern in names:
        pattern = pattern.lower()
        if pattern == wanted:
            return True
        if pattern.startswith("*.") and wanted.split(".", 1)[-1] == pattern[2:] and "." in wanted:
            return True
    return False


def _certificate(cert: x509.Certificate) -> dict[str, Any]:
    key = cert.public_key()
    key_type, bits = (
        ("RSA", key.key_size)
        if isinstance(key, rsa.RSAPublicKey)
        else ("EC", key.curve.key_size)
        if isinstance(key, ec.EllipticCurvePublicKey)
        else (type(key).__name__, 0)
    )
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = tuple(san.value.get_values_for_type(x509.DNSName)) + tuple(
            str(a) for a in san.value.get_values_for_type(x509.IPAddress)
        )
    except x509.ExtensionNotFound:
        names = ()
    not_after = cert.not_valid_after_utc
    algorithm = cert.signature_hash_algorithm
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "names": names,
        "not_after": not_after.date().isoformat(),
        "days_left": (not_after - datetime.now(UTC)).days,
        "self_signed": cert.issuer == cert.subject,
        "key_type": key_type,
        "key_bits": bits,
        "signature_hash": algorithm.name if algorithm else "",
    }


def _sslyze(probe: Probe, ports: list[int]) -> list[TlsPort]:
    """Run sslyze against ``ports`` of the target (blocking); once more for ports it failed."""
    found = {p.port: p for p in _sslyze_once(probe, ports)}
    again = [port for port, result in found.items() if result.error]
    if again:
        found.update({p.port: p for p in _sslyze_once(probe, again)})
    return sorted(found.values(), key=lambda p: p.port)


def _sslyze_once(probe: Probe, ports: list[int]) -> list[TlsPort]:
    from sslyze.plugins.certificate_info.implementation import CertificateInfoExtraArgument
    from sslyze.plugins.scan_commands import ScanCommand
    from sslyze.scanner.models import ScanCommandsExtraArguments, ServerScanRequest
    from sslyze.scanner.scanner import Scanner
    from sslyze.server_setting import ServerNetworkLocation

    commands = {
        ScanCommand.CERTIFICATE_INFO,
        ScanCommand.HEARTBLEED,
        ScanCommand.OPENSSL_CCS_INJECTION,
        ScanCommand.ROBOT,
        *(getattr(ScanCommand, attr.upper()) for attr, _ in _PROTOCOLS),
        *tlsprofile.commands(),
    }
    extra = ScanCommandsExtraArguments(
        certificate_info=CertificateInfoExtraArgument(custom_ca_file=probe.config.trust_ca_file)
        if probe.config.trust_ca_file
        else None
    )
    target = probe.target
    requests = [
        ServerScanRequest(
            server_location=ServerNetworkLocation(
                target.server_name or target.address, port, target.address
            ),
            scan_commands=commands,
            scan_commands_extra_arguments=extra,
        )
        for port in ports
    ]
    scanner = Scanner(per_server_concurrent_connections_limit=5)
    found = []
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # sslyze's trust stores hold certificates cryptography frowns on
        scanner.queue_scans(requests)
        for result in scanner.get_results():
            found.append(_port_result(probe, result))
    return found


def _expired_only(error: str | None) -> bool:
    text = (error or "").lower()
    return "expired" in text or "validation time" in text


def _port_result(probe: Probe, result: Any) -> TlsPort:
    port = result.server_location.port
    scan = result.scan_result
    if scan is None:
        error = getattr(result.connectivity_error_trace, "exc_value", None)
        return TlsPort(port, f"could not connect over TLS: {error}")
    protocols = []
    ciphers: list[str] = []
    failed = [
        f"{label}: {attempt.error_reason}"
        for attr, label in _PROTOCOLS
        if (attempt := getattr(scan, attr)).result is None
    ]
    if failed:  # a protocol not tested is not a protocol refused: report nothing rather than half
        return TlsPort(port, f"sslyze could not test {'; '.join(failed)}")
    for attr, label in _PROTOCOLS:
        attempt = getattr(scan, attr)
        if attempt.result and attempt.result.accepted_cipher_suites:
            protocols.append(label)
            ciphers += [s.cipher_suite.openssl_name for s in attempt.result.accepted_cipher_suites]
    info = scan.certificate_info.result
    if info is None:
        return TlsPort(port, "no certificate information", tuple(protocols), tuple(ciphers))
    deployment = info.certificate_deployments[0]
    leaf = deployment.received_certificate_chain[0]
    cert = _certificate(leaf)
    # An expired certificate fails validation for its expiry alone: that is its own finding.
    trusted = any(
        v.was_validation_successful or _expired_only(v.validation_error)
        for v in deployment.path_validation_results
    )
    heartbleed = bool(scan.heartbleed.result and scan.heartbleed.result.is_vulnerable_to_heartbleed)
    ccs = bool(
        scan.openssl_ccs_injection.result
        and scan.openssl_ccs_injection.result.is_vulnerable_to_ccs_injection
    )
    matches = _matches(probe.target.server_name, cert["names"], probe.target.address)
    facts = TlsFacts(
        protocols=tuple(protocols),
        ciphers=tuple(ciphers),
        expired=cert["days_left"] < 0,
        self_signed=cert["self_signed"],
        trusted=trusted,
        hostname_matches=matches,
        key_type=cert["key_type"],
        key_bits=cert["key_bits"],
        signature_hash=cert["signature_hash"],
        heartbleed=heartbleed,
        ccs_injection=ccs,
        robot=tlsprofile.robot_verdict(result) in tlsprofile.ROBOT_FINDINGS,
    )
    letter, reasons = grade(facts)
    mozilla, mozilla_error = tlsprofile.compliance(result)
    if mozilla_error:  # a command failed (ROBOT, curves…): half a verdict would close findings
        return TlsPort(port, f"sslyze could not complete the scan: {mozilla_error}")
    return TlsPort(
        port=port,
        error=None,
        protocols=tuple(protocols),
        ciphers=tuple(dict.fromkeys(ciphers)),
        trusted=trusted,
        hostname_matches=matches,
        heartbleed=heartbleed,
        ccs_injection=ccs,
        grade=letter,
        grade_reasons=tuple(reasons),
        robot=tlsprofile.robot_verdict(result),
        mozilla_intermediate_failures=mozilla,
        **cert,
    )


async def run(probe: Probe) -> TlsResult:
    ports = probe.tls_ports()
    if not ports:
        return TlsResult(())
    gate = probe.shared.setdefault("tls", asyncio.Semaphore(TLS_SCANS))
    async with gate:
        for _ in ports:
            await probe.limiter.wait(
                "request:tls", probe.target.address, probe.config.rates.requests_per_second
            )
        return TlsResult(tuple(await asyncio.to_thread(_sslyze, probe, ports)))


def _obs(
    port: TlsPort, detail: str, title: str, severity: Severity, template: str, **params: Any
) -> Observation:
    return Observation(
        check="tls",
        detail=detail,
        title=title,
        severity=severity,
        port=port.port,
        evidence=Evidence(
            probe=f"sslyze scan of port {port.port} (protocols, suites, certificate, "
            f"Heartbleed, CCS, ROBOT; Mozilla {tlsprofile.PROFILE} profile)",
            response=f"subject {port.subject}; issuer {port.issuer}; not after {port.not_after}; "
            f"{port.key_type} {port.key_bits} bits; protocols {', '.join(port.protocols)}; "
            f"grade {port.grade} ({'; '.join(port.grade_reasons) or 'no caps'})",
        ),
        remediation=template,
        params=params,
    )


def _expiry(days_left: int) -> tuple[str, str, Severity] | None:
    """Return how a certificate this many days from expiry is reported (detail, title,
    severity): expired is critical, within a week high, within 30 days medium; later, None."""
    if days_left < 0:
        return "expired", "TLS certificate has expired", Severity.CRITICAL
    if days_left > 30:
        return None
    severity = Severity.HIGH if days_left <= 7 else Severity.MEDIUM
    return "expiring", f"TLS certificate expires in {days_left} days", severity


def observe(result: TlsResult, probe: Probe, lookups: Lookups) -> list[Observation]:
    found = []
    for port in result.ports:
        if port.error:
            continue
        expiry = _expiry(port.days_left)
        if expiry is not None:
            detail, title, severity = expiry
            found.append(
                _obs(
                    port,
                    detail,
                    title,
                    severity,
                    "tls_expired",
                    days=port.days_left,
                    not_after=port.not_after,
                )
            )
        if port.self_signed or not port.trusted:
            what = "self-signed" if port.self_signed else "not trusted"
            found.append(
                _obs(
                    port,
                    "untrusted",
                    f"TLS certificate is {what}",
                    Severity.HIGH,
                    "tls_self_signed",
                    self_signed=port.self_signed,
                    issuer=port.issuer,
                )
            )
        weak = (port.key_type == "RSA" and port.key_bits < 2048) or (
            port.key_type == "EC" and port.key_bits < 256
        )
        if weak:
            found.append(
                _obs(
                    port,
                    "weak-key",
                    f"TLS certificate has a weak {port.key_bits}-bit key",
                    Severity.HIGH,
                    "tls_weak_key",
                    bits=port.key_bits,
                    algorithm=port.key_type,
                )
            )
        old = [p for p in port.protocols if p in ("SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1")]
        if old:
            severity = Severity.HIGH if any(p.startswith("SSL") for p in old) else Severity.MEDIUM
            found.append(
                _obs(
                    port,
                    "old-protocol",
                    f"Server accepts {' and '.join(old)}",
                    severity,
                    "tls_old_protocol",
                    versions=old,
                )
            )
        if not port.hostname_matches and not port.self_signed:
            found.append(
                _obs(
                    port,
                    "hostname-mismatch",
                    "TLS certificate is for another name",
                    Severity.MEDIUM,
                    "tls_hostname_mismatch",
                    names=list(port.names),
                )
            )
        if port.heartbleed:
            found.append(
                _obs(
                    port,
                    "heartbleed",
                    "Server is vulnerable to Heartbleed",
                    Severity.CRITICAL,
                    "tls_vulnerable",
                    name="Heartbleed (CVE-2014-0160)",
                    why="it lets anyone read the server's memory: passwords, keys and data.",
                )
            )
        if port.ccs_injection:
            found.append(
                _obs(
                    port,
                    "ccs-injection",
                    "Server is vulnerable to OpenSSL CCS injection",
                    Severity.HIGH,
                    "tls_vulnerable",
                    name="OpenSSL CCS injection (CVE-2014-0224)",
                    why="an attacker between the user and the server can read and change the traffic.",
                )
            )
        if port.robot in tlsprofile.ROBOT_FINDINGS:
            severity, oracle = tlsprofile.ROBOT_FINDINGS[port.robot]
            found.append(
                _obs(
                    port,
                    "robot",
                    f"Server is vulnerable to ROBOT ({oracle} Bleichenbacher oracle)",
                    severity,
                    "tls_vulnerable",
                    name="ROBOT, the return of Bleichenbacher's oracle (CVE-2017-13099 and others)",
                    why="an attacker can decrypt recorded traffic and sign with the server's key.",
                )
            )
        for detail, title, severity, params in tlsprofile.rule_findings(
            port.mozilla_intermediate_failures
        ):
            found.append(_obs(port, detail, title, severity, "tls_mozilla", **params))
    return found


CHECK = Check(
    name="tls",
    title="TLS",
    run=run,
    observe=observe,
    covers=lambda result, _probe: {p.port for p in result.ports if p.error is None},
)
