"""Microsoft Teams' credentials and options, read when the Teams adapter is mounted, not by the core.

Same variables as always: the Bot Framework app's `MICROSOFT_APP_ID`, `MICROSOFT_APP_PASSWORD`,
`MICROSOFT_APP_TENANT_ID` and `MICROSOFT_APP_TYPE`, and guidebot's own `GUIDEBOT_TEAMS_*` options,
from the environment or `.env`; the core's `Settings` knows nothing of Teams.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TeamsSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GUIDEBOT_TEAMS_", env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    app_id: str | None = Field(default=None, validation_alias=AliasChoices("MICROSOFT_APP_ID"))
    app_password: str | None = Field(default=None, validation_alias=AliasChoices("MICROSOFT_APP_PASSWORD"))
    app_tenant_id: str | None = Field(default=None, validation_alias=AliasChoices("MICROSOFT_APP_TENANT_ID"))
    app_type: str = Field(default="MultiTenant", validation_alias=AliasChoices("MICROSOFT_APP_TYPE"))

    # Without an app id: unauthenticated, for the Bot Framework Emulator and tests on this machine only
    # (loopback Host and serviceUrl); off unless asked for.
    local_mode: bool = False
    # Hosts a Teams `serviceUrl` may name (comma-separated; `*.` allows subdomains): the bot posts its
    # replies there with the app's credentials. Loopback only in local mode.
    service_hosts: str = (
        "smba.trafficmanager.net,*.botframework.com,smba.infra.gcc.teams.microsoft.com,"
        "smba.infra.gov.teams.microsoft.us,smba.infra.dod.teams.microsoft.us"
    )
    # Seconds for one call to the Bot Framework (a reply, the signing keys' metadata).
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    # How many times a question whose reply could not be delivered is tried again after its lease
    # lapses, before it is given up (and counted).
    recovery_attempts: int = Field(default=3, ge=0)
    # Where to read Bot Framework's channel token signing keys (OpenID metadata) from instead of Microsoft's
    # public-cloud address: a mirror, or a local stand-in in tests.
    openid_metadata_url: str | None = None

    @property
    def service_host_patterns(self) -> tuple[str, ...]:
        return tuple(h.strip().lower() for h in self.service_hosts.split(",") if h.strip())


@dataclass(frozen=True)
class BotConfig:
    """The names botbuilder's `ConfigurationBotFrameworkAuthentication` reads, taken from `TeamsSettings`."""

    APP_ID: str | None
    APP_PASSWORD: str | None
    APP_TENANTID: str | None
    APP_TYPE: str

    @classmethod
    def from_settings(cls, teams: TeamsSettings) -> BotConfig:
        return cls(
            APP_ID=teams.app_id or None,
            APP_PASSWORD=teams.app_password or None,
            APP_TENANTID=teams.app_tenant_id or None,
            APP_TYPE=teams.app_type or "MultiTenant",
        )
