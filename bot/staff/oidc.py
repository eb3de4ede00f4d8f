"""Single sign-on to the staff dashboard with OpenID Connect: what the provider said, and who may sign in.

The adapter (`adapters.staff.oidc_routes`) does the HTTP; this module makes the protocol's decisions with
Authlib's OAuth 2 pieces (the authorization URL, PKCE, the token request's client authentication) and
joserfc, Authlib's JOSE library, with Authlib's `CodeIDToken` rules for the ID token: its signature against
the provider's published keys, and its `iss`, `aud`/`azp`, `exp`, `iat`, `nonce` and `at_hash`. Nothing
here parses a JWT or a key by hand.

Who may sign in: a verified e-mail address (`email_verified`, when the provider sends it, must be true)
that is already a staff member's (invited with `guidebot staff invite`, not revoked), or whose domain or
address `GUIDEBOT_OIDC_ALLOWED_DOMAINS` / `GUIDEBOT_OIDC_ALLOWED_EMAILS` lists; such a newcomer becomes a
staff member on signing in. A revoked member stays out: revocation is an administrator's decision, and only
a new invite undoes it.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from authlib.common.security import generate_token, is_secure_transport
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    ClaimError,
    DecodeError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingAlgorithmError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from bot.settings import Settings
from bot.staff import InvalidEmail, SignedIn, StaffDesk, normalize_email

__all__ = [
    "CALLBACK_PATH",
    "OidcClient",
    "OidcPolicy",
    "Pending",
    "ProviderMetadata",
    "ProviderUnusable",
    "Refused",
    "UnknownKey",
    "admit",
    "verify_id_token",
]

CALLBACK_PATH = "/staff/sign-in/oidc/callback"
SCOPE = "openid email"
LEEWAY_SECONDS = 60
"""Clock skew allowed between this server and the provider when reading `exp` and `iat`."""
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519")
"""ID-token algorithms accepted: the provider's published keys sign them. `HS*` (keyed with the client
secret) and `none` are never accepted, whatever the provider advertises."""
_PENDING_PART = re.compile(r"^[A-Za-z0-9]{20,128}$")


class Refused(Exception):
    """A sign-in refused: `reason` for the audit log, `message` for the staff member's page."""

    def __init__(self, reason: str, message: str, who: str = "(unknown)") -> None:
        super().__init__(reason)
        self.reason, self.message, self.who = reason, message, who


class ProviderUnusable(Exception):
    """The provider could not be reached, or what it published is not usable (the administrator's to fix)."""


class UnknownKey(Exception):
    """The ID token names a key the cached key set lacks: the provider may have rotated its keys."""


@dataclass(frozen=True)
class OidcPolicy:
    """Whom single sign-on lets in besides existing staff: whole e-mail domains (exact, not their
    subdomains) and single addresses."""

    domains: frozenset[str]
    emails: frozenset[str]

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcPolicy:
        domains = frozenset(d.strip().lstrip("@").lower() for d in settings.oidc_allowed_domains.split(",") if d.strip())
        emails = frozenset(e.strip().lower() for e in settings.oidc_allowed_emails.split(",") if e.strip())
        return cls(domains, emails)

    def lets_in(self, email: str) -> bool:
        return email in self.emails or email.rpartition("@")[2] in self.domains


@dataclass(frozen=True)
class OidcClient:
    """This dashboard as the provider's client: who it is, where the provider sends staff back, whom it admits."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    policy: OidcPolicy

    @classmethod
    def from_settings(cls, settings: Settings, base_url: str) -> OidcClient | None:
        """The client, or None when single sign-on is not set up (the issuer or the client id unset)."""
        if not settings.oidc_issuer or not settings.oidc_client_id:
            return None
        secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else ""
        return cls(settings.oidc_issuer.rstrip("/"), settings.oidc_client_id, secret, base_url + CALLBACK_PATH, OidcPolicy.from_settings(settings))

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of the provider's discovery document this client uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]
    auth_method: str

    @classmethod
    def parse(cls, document: Any, client: OidcClient) -> ProviderMetadata:
        """Check the document as OpenID Connect Discovery requires: its `issuer` is the one configured, and
        every endpoint is https (or loopback, for a provider on this machine)."""
        if not isinstance(document, Mapping):
            raise ProviderUnusable("the discovery document is not a JSON object")
        if str(document.get("issuer", "")).rstrip("/") != client.issuer:
            raise ProviderUnusable(f"the discovery document names another issuer ({str(document.get('issuer'))[:100]!r})")
        endpoints = {}
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = document.get(name)
            if not isinstance(value, str) or not is_secure_transport(value):
                raise ProviderUnusable(f"the discovery document's {name} is missing or not https")
            endpoints[name] = value
        offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = tuple(a for a in offered if a in ASYMMETRIC_ALGORITHMS)
        if not algorithms:
            raise ProviderUnusable("the provider signs ID tokens with no algorithm this dashboard accepts (RS256, ES256 …)")
        methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if not client.client_secret:
            auth_method = "none"
        else:
            auth_method = "client_secret_post" if "client_secret_basic" not in methods and "client_secret_post" in methods else "client_secret_basic"
        return cls(str(document["issuer"]), endpoints["authorization_endpoint"], endpoints["token_endpoint"], endpoints["jwks_uri"], algorithms, auth_method)


@dataclass(frozen=True)
class Pending:
    """A sign-in under way: the `state` the callback must bring back, the `nonce` the ID token must carry,
    and the PKCE verifier that proves the code is redeemed by whoever asked for it."""

    state: str
    nonce: str
    verifier: str

    @classmethod
    def new(cls) -> Pending:
        return cls(generate_token(32), generate_token(32), generate_token(64))

    def cookie(self) -> str:
        return f"{self.state}.{self.nonce}.{self.verifier}"

    @classmethod
    def from_cookie(cls, value: str | None) -> Pending | None:
        parts = (value or "").split(".")
        if len(parts) != 3 or not all(_PENDING_PART.match(p) for p in parts):
            return None
        return cls(*parts)

    def matches(self, state: str) -> bool:
        return hmac.compare_digest(self.state.encode(), state.encode())

    def authorization_url(self, meta: ProviderMetadata, client: OidcClient) -> str:
        return str(
            prepare_grant_uri(
                meta.authorization_endpoint,
                client.client_id,
                "code",
                redirect_uri=client.redirect_uri,
                scope=SCOPE,
                state=self.state,
                nonce=self.nonce,
                code_challenge=create_s256_code_challenge(self.verifier),
                code_challenge_method="S256",
            )
        )

    def token_request(self, meta: ProviderMetadata, client: OidcClient, code: str) -> tuple[str, dict[str, str]]:
        """The token endpoint's form body and headers, the client authenticated as the provider prefers."""
        body = prepare_token_request("authorization_code", redirect_uri=client.redirect_uri, code=code, code_verifier=self.verifier)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        _uri, headers, body = ClientAuth(client.client_id, client.client_secret, meta.auth_method).prepare("POST", meta.token_endpoint, headers, body)
        return str(body), dict(headers)


def _token_problem(error: JoseError) -> str:
    if isinstance(error, DecodeError):
        return "the ID token is malformed"
    if isinstance(error, (MissingAlgorithmError, UnsupportedAlgorithmError)):
        return "the ID token is signed with an algorithm the provider does not publish"
    if isinstance(error, ExpiredTokenError):
        return "the ID token has expired"
    if isinstance(error, MissingClaimError):
        return f"the ID token lacks its {error.claim!r} claim"
    if isinstance(error, ClaimError):
        return {
            "aud": "the ID token was issued for another application",
            "azp": "the ID token was issued for another application",
            "iss": "the ID token comes from another issuer",
            "nonce": "the ID token does not belong to this sign-in (its nonce differs)",
            "iat": "the ID token's issue time is in the future",
        }.get(error.claim, f"the ID token's {error.claim!r} claim is not valid")
    return "the ID token's signature does not match the provider's keys"


def verify_id_token(
    id_token: str, jwks: Any, meta: ProviderMetadata, client: OidcClient, nonce: str, access_token: str | None, now: int | None = None
) -> dict[str, Any]:
    """The ID token's claims once its signature (by a key of `jwks`) and its claims hold; `Refused` otherwise,
    `UnknownKey` when it names a key `jwks` lacks."""
    try:
        keys = KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise ProviderUnusable(f"the provider's key set is not usable ({type(error).__name__})") from error
    refused = "The sign-in service's answer could not be accepted: {}. Try again; if it happens again, tell the dashboard's administrator."
    try:
        token = jwt.decode(id_token, keys, registry=JWSRegistry(algorithms=list(meta.algorithms), strict_check_header=False))
        claims = CodeIDToken(
            token.claims,
            token.header,
            {"iss": {"essential": True, "value": meta.issuer}, "aud": {"essential": True, "value": client.client_id}},
            {"nonce": nonce, "client_id": client.client_id, "access_token": access_token},
        )
        claims.validate(now=now if now is not None else int(time.time()), leeway=LEEWAY_SECONDS)
    except InvalidKeyIdError as error:
        raise UnknownKey() from error
    except JoseError as error:
        problem = _token_problem(error)
        raise Refused(f"bad ID token: {problem}", refused.format(problem)) from error
    return dict(claims)


def verified_email(claims: Mapping[str, Any]) -> str:
    """The e-mail address the provider vouches for, or `Refused`."""
    raw = claims.get("email")
    if not isinstance(raw, str) or not raw:
        raise Refused("no e-mail in the ID token", "The sign-in service did not share your e-mail address, so the dashboard cannot tell who you are.")
    try:
        email = normalize_email(raw)
    except InvalidEmail as error:
        raise Refused("not an e-mail address in the ID token", "The sign-in service's e-mail address for you is not one the dashboard can use.") from error
    verified = claims.get("email_verified", True)
    if verified is not True and str(verified).lower() != "true":
        raise Refused("e-mail not verified", f"Your e-mail address {email} is not verified at the sign-in service. Verify it there, then try again.", email)
    return email


def admit(desk: StaffDesk, claims: Mapping[str, Any], policy: OidcPolicy) -> tuple[str, SignedIn]:
    """Sign in whom the ID token names, as a staff member (added when the policy lets them in): the session's
    token and who, or `Refused`."""
    email = verified_email(claims)
    opened = desk.sign_in_verified(email, add=policy.lets_in(email), how="oidc")
    if isinstance(opened, tuple):
        return opened
    if opened == "revoked":
        raise Refused("revoked", f"{email} no longer has access to the staff dashboard. Ask a colleague to invite you again.", email)
    raise Refused("not allowed", f"{email} may not sign in to the staff dashboard. Ask a colleague to invite you with guidebot staff invite.", email)
