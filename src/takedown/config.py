"""The one reader of the environment.

Everything else receives its values from a ``Settings`` instance, so tests can
build one by hand and nothing deep in the code changes behaviour behind the
caller's back.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from takedown.kit.ssrf import parse_resolve


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TAKEDOWN_", extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str | None = None
    broker_url: str | None = None
    # The testbed's resolver map: hostnames -> "127.0.0.1:port". Empty in production.
    resolve: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    http_proxy: str | None = None
    tor_proxy: str | None = None
    smtp_url: str | None = None
    secret_key: str | None = None
    # Extra CIDRs / hosts the SSRF guard lets through (the testbed's loopback).
    ssrf_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    ca_bundle: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    secure_cookies: bool = False
    # Failed logins within the window: per account, and (separately, more loosely) per client
    # address, so one user's typos lock their account and not an office behind one NAT.
    login_max_attempts: int = 5
    login_max_attempts_per_address: int = 50
    login_window_seconds: int = 300
    # Reverse proxies (IPs or CIDRs) whose X-Forwarded-For / X-Forwarded-Proto are believed
    # (uvicorn's forwarded_allow_ips). Empty: no forwarded header is trusted, from anyone.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    session_max_age_seconds: int = 12 * 3600
    capture_before_referral: bool = True
    # Check a batch's items through the removal detectors just before sending; an item
    # already removed, suspended or withheld is not sent (referrals.precheck).
    check_before_referral: bool = True
    # Evidence storage backend: "local" (content-addressed files under data_dir/evidence)
    # or "s3" (any S3-compatible object store).
    evidence_storage: str = "local"
    evidence_s3_bucket: str | None = None
    evidence_s3_url: str | None = None
    evidence_s3_region: str | None = None
    evidence_s3_access_key: str | None = None
    evidence_s3_secret_key: str | None = None
    evidence_s3_prefix: str = "evidence/"
    # Orphan collection (evidence.orphans): a stored object no row names is deleted once it
    # was last written this many hours ago (younger ones may belong to a running capture).
    evidence_orphan_grace_hours: float = 24.0
    # Largest intake upload accepted over the API (bytes); bigger files get 413.
    import_max_bytes: int = 512 * 1024 * 1024
    # Audit anchors (audit.anchors): a signed checkpoint of the chain's head once this many
    # events or seconds have passed since the last one (a ticker looks every minute), kept
    # in the database and appended to the anchor file (default data_dir/audit-checkpoints.jsonl).
    audit_checkpoint_events: int = 1000
    audit_checkpoint_seconds: int = 3600
    audit_anchor_file: Path | None = None
    # Optional Ed25519 private key (PEM) that signs checkpoints beside the HMAC
    # (``takedown audit keygen``); its public key lets anyone check an exported head.
    audit_signing_key: Path | None = None
    # sharing: a deconfliction hit opens a follow-up due within this many hours (Prüm's 48 h).
    deconfliction_followup_hours: int = 48
    # coins: the Esplora-compatible API that tracing queries (base URL including its /api
    # prefix: a self-hosted Esplora or electrs, or one reached through Tor), the requests
    # per second it may be sent, and how far a trace follows counterparties.
    coins_esplora_url: str | None = None
    coins_esplora_rate: float = 5.0
    coins_trace_hops: int = 2
    coins_trace_max_txs: int = 200
    # The watch-list ticker re-traces each watched address this often (0: never by itself).
    coins_trace_every_minutes: int = 60
    # Distributed runtime (takedown.runtime): the Dramatiq queue's name, how many times a job
    # is tried before the dead-letter queue, when a relayed outbox job not yet done is sent
    # again, and how often the relay looks at the outbox.
    queue_name: str = "takedown"
    job_max_attempts: int = Field(default=5, ge=1)
    outbox_redeliver_seconds: float = Field(default=900.0, gt=0)
    relay_interval_seconds: float = Field(default=1.0, gt=0)
    # A singleton's lease (a ticker's) lasts this long unless renewed: how long a dead
    # worker's singleton work waits before another worker takes it.
    lease_ttl_seconds: float = Field(default=60.0, gt=0)
    # One politeness budget per host for the whole deployment (runtime.host_budget):
    # requests per second to one host summed over every process (0 = no shared budget),
    # and where it is kept: auto | redis | database | local | off.
    host_rate: float = Field(default=0.0, ge=0)
    # A process loads the matching index at start after a random pause of up to this many
    # seconds, so N processes started together do not all read every signal at once.
    index_load_jitter_seconds: float = Field(default=5.0, ge=0)
    host_budget: Literal["auto", "redis", "database", "local", "off"] = "auto"
    # Verification (verification.policy): a removal counts after two ``removed`` checks at
    # least ``verification_confirm_seconds`` apart; in its first day under verification an
    # item is checked again every ``verification_recheck_seconds``; the background scheduler
    # looks for due checks every ``verification_tick_seconds``. Keep the defaults in
    # production; the walkthrough's browser test runs them at a few seconds.
    verification_confirm_seconds: float = Field(default=300.0, gt=0)
    verification_recheck_seconds: float = Field(default=900.0, gt=0)
    verification_tick_seconds: float = Field(default=60.0, gt=0)
    # What ``takedown serve`` and ``takedown worker`` log to stderr (kit.logs): DEBUG, INFO,
    # WARNING, ERROR or CRITICAL.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("resolve", mode="before")
    @classmethod
    def _parse_resolve(cls, value: object) -> dict[str, str]:
        if value is None or value == "":
            return {}
        if isinstance(value, dict):
            return {str(k).lower(): str(v) for k, v in value.items()}
        if isinstance(value, str):
            return parse_resolve(value)
        raise ValueError("TAKEDOWN_RESOLVE must be host=addr:port,... ")

    @field_validator("http_proxy", mode="before")
    @classmethod
    def _check_proxy(cls, value: object) -> str | None:
        """Only HTTP(S) proxies: the SSRF guard hands them checked addresses (kit.proxy)."""
        if value is None or value == "":
            return None
        from takedown.kit.proxy import ProxyConfig

        ProxyConfig.parse(str(value))  # ValueError: an http:// or https:// URL is needed
        return str(value)

    @field_validator("ssrf_allow", "trusted_proxies", mode="before")
    @classmethod
    def _parse_allow(cls, value: object) -> list[str]:
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            return [str(v) for v in value]
        raise ValueError("a comma-separated list is needed")

    def uvicorn_options(self) -> dict[str, Any]:
        """How ``serve`` runs uvicorn: forwarded headers only from the trusted proxies."""
        return {
            "proxy_headers": bool(self.trusted_proxies),
            "forwarded_allow_ips": ",".join(self.trusted_proxies) if self.trusted_proxies else "",
        }

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'takedown.sqlite3').resolve()}"

    @property
    def audit_anchor_path(self) -> Path:
        return self.audit_anchor_file or self.data_dir / "audit-checkpoints.jsonl"

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    def http_client_options(self) -> dict[str, Any]:
        """The guarded HTTP client's network settings (``kit.http.make_client`` keywords):
        the resolver map, SSRF allow-list, proxies and CA bundle, named once for every caller."""
        from takedown.runtime.host_budget import budget_for

        return {
            "resolve": self.resolve,
            "ssrf_allow": self.ssrf_allow,
            "proxy": self.http_proxy,
            "tor_proxy": self.tor_proxy,
            "verify": str(self.ca_bundle) if self.ca_bundle else True,
            "host_budget": budget_for(self),
        }

    def ensure_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
