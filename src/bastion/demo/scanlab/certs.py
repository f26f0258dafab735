"""Certificates for the lab's TLS servers: a lab CA, and good, expired, self-signed, weak-key leaves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class CertFiles:
    cert: Path
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Bastion scan lab"),
        ]
    )


def _write(folder: Path, stem: str, cert: x509.Certificate, key: rsa.RSAPrivateKey) -> CertFiles:
    files = CertFiles(folder / f"{stem}.crt", folder / f"{stem}.key")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return files


class LabCa:
    """A certificate authority for the lab, and the leaves it (or nobody) signs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = datetime.now(UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name("Bastion scan lab CA"))
            .issuer_name(_name("Bastion scan lab CA"))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=30))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        self.ca_file = _write(folder, "lab-ca", self.cert, self.key).cert

    def leaf(
        self,
        stem: str,
        hostname: str,
        *,
        days: int = 90,
        expired: bool = False,
        self_signed: bool = False,
        bits: int = 2048,
        ocsp_url: str | None = None,
    ) -> CertFiles:
        """Write a leaf for ``hostname`` and its key; return the files."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        now = datetime.now(UTC)
        start, end = (
            (now - timedelta(days=90), now - timedelta(days=3))
            if expired
            else (now - timedelta(days=1), now + timedelta(days=days))
        )
        issuer = _name(hostname) if self_signed else self.cert.subject
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(hostname))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
        )
        if ocsp_url:  # names an OCSP responder (the lab's servers staple no answer)
            builder = builder.add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            x509.oid.AuthorityInformationAccessOID.OCSP,
                            x509.UniformResourceIdentifier(ocsp_url),
                        )
                    ]
                ),
                critical=False,
            )
        if not self_signed:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        cert = builder.sign(key if self_signed else self.key, hashes.SHA256())
        files = _write(self.folder, stem, cert, key)
        if not self_signed:  # serve the chain: leaf then CA
            files.cert.write_bytes(
                files.cert.read_bytes() + self.cert.public_bytes(serialization.Encoding.PEM)
            )
        return files
