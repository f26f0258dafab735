"""Settings: defaults, then ``bastion.toml``, then ``BASTION_*`` environment variables."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bastion.core.errors import ConfigError

SCAN_USER_AGENT = (
    "Bastion-Scanner/0.1 (threat scanning of registered member services by the national "
    "cyber security centre; see /scanning on the national portal to opt out or ask questions)"
)
CONFIG_FILE_ENV = "BASTION_CONFIG"
DEFAULT_CONFIG_FILE = "bastion.toml"
ENV_PREFIX = "BASTION_"


class Settings(BaseModel):
    """Bastion's configuration. Paths are relative to the working directory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Field(default=Path(".bastion"), description="where Bastion keeps its state")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default SQLite in the data directory. "
        "PostgreSQL: postgresql+psycopg://user@host/db",
    )
    archive_path: Path | None = Field(
        default=None, description="Parquet event archive; default <data_dir>/archive"
    )
    ingest_chunk_bytes: int = Field(
        default=24 << 20,
        ge=4096,
        description="input bytes read and transformed at once (more: per-batch costs spread "
        "over more events, and more memory)",
    )
    ingest_segment_bytes: int = Field(
        default=128 << 20,
        ge=1,
        description="input bytes a file's chunks are committed in together (more: fewer, larger "
        "archive files and more memory)",
    )
    archive_compact_after_hours: float = Field(
        default=1.0,
        ge=0,
        description="a day's staged events move into per-organisation partitions once the day "
        "ended this long ago (one file per organisation per day; until then hunts read them staged)",
    )
    intel_refresh_seconds: float = Field(
        default=2.0,
        ge=0,
        description="how often a running ingest picks up indicators changed in the store "
        "(compiled incrementally, no restart)",
    )
    rules_path: Path | None = Field(
        default=None,
        description="folder of Sigma rules the pipeline runs; default <data_dir>/rules",
    )
    rule_placeholders: dict[str, list[str]] = Field(
        default_factory=dict,
        description="values of Sigma %placeholders% for the expand modifier, e.g. "
        "[bastion.rule_placeholders] internal_domains = ['.nhs.uk']",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for the web server's rate limits and the scanner's politeness limits, "
        "e.g. redis://127.0.0.1:6379/0; without it the web server counts in the database and "
        "each scanner process on its own",
    )
    syslog_udp_buffer_bytes: int = Field(
        default=64 << 20,
        ge=4096,
        description="receive buffer of `bastion boundary listen`'s UDP socket: datagrams wait "
        "there while the pipeline is busy, and the kernel drops what does not fit (more: longer "
        "bursts survive; memory is taken only while datagrams wait)",
    )
    boundary_timezone: str = Field(
        default="UTC",
        description="IANA time zone (e.g. Europe/London) of device times written without an "
        "offset, for boundary sources not given `--timezone`; a time with an offset keeps it",
    )
    cases_breach_report_hours: float = Field(
        default=72.0,
        gt=0,
        description="hours from awareness to report a personal-data breach to the regulator "
        "(the clock on every case that involves personal data)",
    )
    cases_sector_report_hours: float = Field(
        default=24.0,
        gt=0,
        description="hours from awareness to the sector's incident report (the clock on every case)",
    )
    cases_clock_warning_hours: float = Field(
        default=12.0,
        ge=0,
        description="notify a case's organisations this long before a regulatory clock runs out",
    )
    cases_attachment_max_bytes: int = Field(
        default=25 << 20, ge=1, description="largest file a case may have attached"
    )
    cases_webhook_url: str | None = Field(
        default=None,
        description="URL that case notifications are POSTed to as JSON (assignment, new high or "
        "critical case, regulatory clock nearly up); default none",
    )
    cases_notify_attempts: int = Field(
        default=3, ge=1, le=10, description="tries per case notification (e-mail or webhook)"
    )
    alert_group_window: timedelta = Field(
        default=timedelta(hours=1),
        description="alerts of one organisation, host and observable this close in time share "
        "an alert group, whichever detector raised them (seconds or ISO 8601, e.g. PT1H)",
    )
    alert_ack_target_national: timedelta = Field(
        default=timedelta(hours=1),
        description="high and critical alerts should be acknowledged within this long "
        "(the national response target MTTA is measured against)",
    )
    alert_ack_target_member: timedelta = Field(
        default=timedelta(hours=24),
        description="the same target for one member organisation's alerts",
    )
    hunt_memory_limit: str = Field(
        default="512MB",
        pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$",
        description="memory one hunt from the console or API may hold (DuckDB's memory_limit); "
        "a query that needs more fails",
    )
    hunt_time_limit_seconds: float = Field(
        default=30.0,
        gt=0,
        description="a hunt from the console or API still running after this long is stopped",
    )
    passwords_path: Path | None = Field(
        default=None,
        description="folder of the breached-password store (SHA-1 and NTLM); "
        "default <data_dir>/passwords",
    )
    uptime_path: Path | None = Field(
        default=None,
        description="folder of the uptime probe history (Parquet: minutes, hours, days); "
        "default <data_dir>/uptime",
    )
    uptime_webhook_url: str | None = Field(
        default=None,
        description="URL that uptime notifications (down, recovered, burn-rate alerts, silent "
        "agents) are POSTed to as JSON; default none",
    )
    uptime_apprise_urls: list[str] = Field(
        default_factory=list,
        description="apprise URLs uptime notifications also go to (comma-separated in the "
        "environment); default none",
    )
    uptime_notify_attempts: int = Field(
        default=3, ge=1, le=10, description="tries per uptime notification and channel"
    )
    uptime_agent_silence: timedelta = Field(
        default=timedelta(minutes=3),
        description="a vantage point that sends nothing for this long raises an alert "
        "(seconds or ISO 8601, e.g. PT3M)",
    )
    uptime_cert_warn_days: list[int] = Field(
        default_factory=lambda: [7, 30],
        description="a probed TLS certificate with this many days left or fewer is notified, "
        "once per certificate, organisation and threshold (comma-separated in the environment)",
    )
    uptime_national_min_orgs: int = Field(
        default=3,
        ge=2,
        description="monitors of one dependency down at this many organisations at once make "
        "one national incident instead of an alert per member",
    )
    assure_deadline: str = Field(
        default="06-30",
        pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$",
        description="cut-off of a yearly assurance return (MM-DD of the period's second year; "
        "a 2024-25 return is due 2025-06-30 by default); later returns show as late nationally",
    )
    scan_allow_private: bool = Field(
        default=False,
        description="let private, loopback and link-local addresses be scanned (tests and demos; "
        "a national scanner on the internet never needs it)",
    )
    scan_ports: list[int] | None = Field(
        default=None,
        description="TCP ports the scanner checks (comma-separated in the environment); "
        "default a short list of ~100 service ports",
    )
    scan_packet_rate: float = Field(
        default=5.0, gt=0, description="port probes per second to one address, across every scanner"
    )
    scan_request_rate: float = Field(
        default=1.0,
        gt=0,
        description="requests per second one check module sends to one address, across every scanner",
    )
    scan_connect_timeout: float = Field(
        default=3.0, gt=0, description="seconds the scanner waits for a TCP connection"
    )
    scan_read_timeout: float = Field(
        default=5.0, gt=0, description="seconds the scanner waits for an answer"
    )
    scan_banner_wait_seconds: float = Field(
        default=1.0,
        ge=0,
        description="how long the port scan waits for a service that speaks first (SSH, SMTP…)",
    )
    scan_backoff_seconds: float = Field(
        default=2.0,
        ge=0,
        description="first wait after an HTTP 429 without Retry-After or a timeout (doubling, "
        "two retries)",
    )
    scan_user_agent: str = Field(
        default=SCAN_USER_AGENT, description="the User-Agent of every scanner request"
    )
    scan_trust_ca_file: Path | None = Field(
        default=None,
        description="PEM file of extra certificate authorities trusted when grading TLS "
        "(besides the usual browser trust stores)",
    )
    scan_canary_dns: str | None = Field(
        default=None,
        description="host:port of the DNS canary listener (`bastion scan canary`); the Log4Shell "
        "check runs only when it is set",
    )
    scan_canary_domain: str = Field(
        default="canary.bastion.test",
        description="domain whose names the canary listener answers for (delegated to it)",
    )
    scan_canary_wait_seconds: float = Field(
        default=2.0, ge=0, description="how long the Log4Shell check waits for a DNS callback"
    )
    scan_dns_server: str | None = Field(
        default=None,
        description="host:port the e-mail and DNS checks ask (and try a zone transfer from); "
        "default the system's resolvers and each name's NS servers",
    )
    scan_timezone: str = Field(
        default="Europe/London", description="IANA time zone of organisations' quiet hours"
    )
    scan_cadence_days: float = Field(
        default=7.0, gt=0, description="days between scheduled scans of a host"
    )
    scan_high_risk_cadence_days: float = Field(
        default=1.0, gt=0, description="days between scans of a high-risk organisation's hosts"
    )
    scan_max_connections: int = Field(
        default=512, ge=1, description="open connections one scanner process holds at most"
    )
    scan_webhook_url: str | None = Field(
        default=None,
        description="URL that scan digests and reminders are also POSTed to as JSON; default none",
    )
    scan_notify_attempts: int = Field(
        default=3, ge=1, le=10, description="tries per scan digest or reminder and channel"
    )
    scan_reminder_days_high: int = Field(
        default=60,
        ge=1,
        description="remind an organisation of a high or critical finding still open this many "
        "days after it was found or last reminded",
    )
    scan_reminder_days_medium: int = Field(
        default=120, ge=1, description="the same for a medium finding"
    )
    scan_reminder_days_low: int = Field(default=540, ge=1, description="the same for a low finding")
    web_host: str = Field(default="127.0.0.1", description="address the web server binds")
    web_port: int = Field(default=8000, ge=1, le=65535, description="port the web server binds")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or CIDRs of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto the web server believes (comma-separated in the environment); "
        "default none: the connecting address is the client",
    )

    @field_validator("scan_ports", "uptime_cert_warn_days", mode="before")
    @classmethod
    def _split_ports(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [int(part) for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies", "uptime_apprise_urls", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        # From the environment the list arrives as one string: "10.0.0.1, 10.1.0.0/16".
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("uptime_cert_warn_days")
    @classmethod
    def _check_cert_days(cls, value: list[int]) -> list[int]:
        if any(not 1 <= days <= 3650 for days in value):
            msg = f"uptime_cert_warn_days are 1-3650 days each; not {value}"
            raise ValueError(msg)
        return sorted(set(value))

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        checked = []
        for entry in value:
            try:
                checked.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
            except ValueError:
                msg = f"{entry!r} is not an IP address or CIDR (a proxy is named by its address)"
                raise ValueError(msg) from None
        return checked

    @field_validator("boundary_timezone", "scan_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        return time_zone(value)

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'bastion.db'}"

    @property
    def archive_dir(self) -> Path:
        return self.archive_path or self.data_dir / "archive"

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "case-attachments"

    @property
    def rules_dir(self) -> Path:
        return self.rules_path or self.data_dir / "rules"

    @property
    def passwords_dir(self) -> Path:
        return self.passwords_path or self.data_dir / "passwords"

    @property
    def uptime_dir(self) -> Path:
        return self.uptime_path or self.data_dir / "uptime"


def time_zone(name: str) -> str:
    """Return ``name`` if it is an IANA time zone name (``Europe/London``, ``UTC``); else ValueError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"{name!r} is not an IANA time zone name (e.g. UTC, Europe/London, America/New_York)"
        raise ValueError(msg) from None
    return name


def load_settings(
    config_file: Path | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Read settings from the config file (if any) and the environment; raise ConfigError."""
    env = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    path = config_file or Path(env.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))
    if path.is_file():
        try:
            values.update(tomllib.loads(path.read_text(encoding="utf-8")).get("bastion", {}))
        except tomllib.TOMLDecodeError as exc:
            msg = f"{path}: not valid TOML: {exc}"
            raise ConfigError(msg) from exc
    elif config_file is not None:
        msg = f"{path}: config file not found"
        raise ConfigError(msg)
    fields = Settings.model_fields
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and key != CONFIG_FILE_ENV:
            name = key[len(ENV_PREFIX) :].lower()
            if name in fields:
                values[name] = value
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        where = f"{path} [bastion] or {ENV_PREFIX}{field.upper()}"
        msg = f"invalid setting {field!r} ({where}): {first['msg']}"
        raise ConfigError(msg) from exc
