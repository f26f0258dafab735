"""Mozilla's "intermediate" TLS configuration, checked by sslyze's own checker; ROBOT's verdict.

sslyze ships Mozilla's published profile (its ``5.7.json``) and a checker that
compares a server's scan with it rule by rule; ``compliance`` runs that checker
and adds the one rule it leaves out, OCSP stapling, where it can be tested: a
certificate that names an OCSP responder should come with a stapled answer (one
that names none cannot be stapled, so the rule does not apply).

Each violated rule becomes its own finding (``mozilla:<rule>``), except the rules
that a finding of their own already reports (protocol versions, RSA key size,
trust, Heartbleed, CCS, ROBOT): those stay listed among the port's failures.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509

from bastion.core.types import Severity

PROFILE = "intermediate"

# Rules reported by a finding of their own (old-protocol, weak-key, untrusted, heartbleed…).
REPORTED_ELSEWHERE = frozenset(
    {
        "tls_versions",
        "rsa_key_size",
        "certificate_path_validation",
        "tls_vulnerability_heartbleed",
        "tls_vulnerability_ccs_injection",
        "tls_vulnerability_robot",
    }
)
# rule: (severity, title)
RULES: dict[str, tuple[Severity, str]] = {
    "ciphers": (Severity.LOW, "TLS 1.2 cipher suites outside Mozilla's intermediate list"),
    "ciphersuites": (Severity.LOW, "TLS 1.3 cipher suites outside Mozilla's intermediate list"),
    "tls_curves": (Severity.LOW, "Key-exchange curves outside Mozilla's intermediate list"),
    "ecdh_param_size": (Severity.LOW, "Elliptic-curve key exchange weaker than 256 bits"),
    "dh_param_size": (Severity.MEDIUM, "Diffie-Hellman key exchange weaker than 2048 bits"),
    "certificate_curves": (Severity.LOW, "Certificate's curve is not P-256 or P-384"),
    "certificate_types": (Severity.LOW, "Certificate key is neither RSA nor ECDSA"),
    "certificate_signatures": (Severity.MEDIUM, "Certificate signed with an outdated algorithm"),
    "maximum_certificate_lifespan": (Severity.LOW, "Certificate issued for longer than a year"),
    "ocsp_staple": (Severity.LOW, "No OCSP answer stapled to the certificate"),
    "tls_vulnerability_compression": (Severity.MEDIUM, "TLS compression accepted (CRIME)"),
    "tls_vulnerability_renegotiation": (Severity.MEDIUM, "Insecure TLS renegotiation accepted"),
    "tls_vulnerability_fallback_scsv": (Severity.LOW, "No protection against protocol downgrade"),
    "tls_vulnerability_extended_master_secret": (
        Severity.LOW,
        "Extended Master Secret extension not supported",
    ),
}
# ROBOT verdicts (sslyze's RobotScanResultEnum names) that are findings: severity, oracle.
ROBOT_FINDINGS = {
    "VULNERABLE_STRONG_ORACLE": (Severity.HIGH, "strong"),
    "VULNERABLE_WEAK_ORACLE": (Severity.MEDIUM, "weak"),
}


def commands() -> set[Any]:
    """Return the sslyze scan commands the checker needs (ROBOT among them)."""
    from sslyze.mozilla_tls_profile.tls_config_checker import (
        SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER,
    )

    return set(SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER)


def _ocsp_responder(cert: x509.Certificate) -> str | None:
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return None
    for item in access:
        if item.access_method == x509.oid.AuthorityInformationAccessOID.OCSP:
            return str(item.access_location.value)
    return None


def compliance(result: Any) -> tuple[dict[str, str], str | None]:
    """Check one sslyze server result against Mozilla's intermediate profile.

    Return the violated rules (rule: sslyze's explanation) and, when a scan command
    the checker needs did not complete, why nothing could be judged.
    """
    from sslyze.mozilla_tls_profile.tls_config_checker import (
        MozillaTlsConfiguration,
        ServerNotCompliantWithTlsConfiguration,
        ServerScanResultIncomplete,
        TlsConfigurationEnum,
        check_server_against_tls_configuration,
    )

    profile = MozillaTlsConfiguration.get(TlsConfigurationEnum(PROFILE))
    issues: dict[str, str] = {}
    try:
        check_server_against_tls_configuration(result, profile)
    except ServerNotCompliantWithTlsConfiguration as failed:
        issues.update(failed.issues)
    except (ServerScanResultIncomplete, AssertionError, AttributeError) as incomplete:
        return {}, f"Mozilla {PROFILE} profile not checked: {incomplete or 'incomplete scan'}"
    if profile.ocsp_staple:
        for deployment in result.scan_result.certificate_info.result.certificate_deployments:
            responder = _ocsp_responder(deployment.received_certificate_chain[0])
            if responder and deployment.ocsp_response is None:
                issues["ocsp_staple"] = (
                    f"The certificate names the OCSP responder {responder}, "
                    "but the server staples no OCSP answer."
                )
    return issues, None


def robot_verdict(result: Any) -> str:
    """Return sslyze's ROBOT verdict for the server ("" when the plug-in did not complete)."""
    attempt = result.scan_result.robot
    return attempt.result.robot_result.name if attempt.result else ""


def rule_findings(failures: dict[str, str]) -> list[tuple[str, str, Severity, dict[str, Any]]]:
    """Return (detail, title, severity, params) for each violated rule that is its own finding."""
    found = []
    for rule, why in sorted(failures.items()):
        if rule in REPORTED_ELSEWHERE:
            continue
        severity, title = RULES.get(rule, (Severity.LOW, f"Mozilla {PROFILE} rule {rule} failed"))
        found.append((f"mozilla:{rule}", title, severity, {"rule": rule, "why": why}))
    return found
