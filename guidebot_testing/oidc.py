"""A local OpenID Connect provider for the staff dashboard's single sign-on tests: the remote server we fake.

    async with LocalProvider("guidebot-staff", "s3cret", ["http://127.0.0.1:8123/staff/sign-in/oidc/callback"]) as idp:
        settings = Settings(oidc_issuer=idp.issuer, oidc_client_id="guidebot-staff", oidc_client_secret="s3cret", ...)
        idp.user = FakeUser("ann@example.org")

It runs on 127.0.0.1 and speaks the protocol at the HTTP level as a real provider does:

- `GET /.well-known/openid-configuration`: the discovery document;
- `GET /authorize`: checks the client, the registered redirect URI (an unregistered one gets a 400 page,
  never a redirect), `response_type=code`, the `openid` scope and an S256 PKCE challenge, then approves
  `user` at once (no login form) and sends the browser back with a one-time code and the state;
- `POST /token`: authenticates the client (HTTP Basic or the form's `client_id`/`client_secret`), redeems
  the code once, within a minute, for the same redirect URI, with the PKCE verifier that matches the
  challenge, and answers with an access token and an RS256 ID token signed with joserfc (Authlib's JOSE
  library), `at_hash` included;
- `GET /jwks`: the public key.

`misbehave` makes it lie in the ways a test needs: a token for another audience, one already expired,
one with another nonce or issuer, one signed by a key it does not publish, or an error at `/authorize`.
`hits` counts requests per path, so a test can see what the client cached.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from aiohttp import BasicAuth, web
from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge
from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CODE_SECONDS = 60


@dataclass
class FakeUser:
    """Whom the provider signs in: `email_verified` None leaves the claim out, as some providers do."""

    email: str = "ann@example.org"
    email_verified: bool | None = True

    @property
    def sub(self) -> str:
        return hashlib.sha256(self.email.encode()).hexdigest()[:24]


@dataclass
class Misbehaviour:
    audience: str | None = None
    expires_in: int = 300
    nonce: str | None = None
    issuer: str | None = None
    unpublished_key: bool = False
    authorize_error: str | None = None


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    user: FakeUser
    expires: float


@dataclass
class LocalProvider:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    user: FakeUser = field(default_factory=FakeUser)
    misbehave: Misbehaviour = field(default_factory=Misbehaviour)
    hits: Counter[str] = field(default_factory=Counter)
    issuer: str = ""

    def __post_init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig", "alg": "RS256"})
        self.stray_key = RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig", "alg": "RS256"})
        self._grants: dict[str, _Grant] = {}
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> LocalProvider:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self.discovery)
        app.router.add_get("/authorize", self.authorize)
        app.router.add_post("/token", self.token)
        app.router.add_get("/jwks", self.jwks)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.issuer = f"http://{host}:{port}"
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------ endpoints

    async def discovery(self, request: web.Request) -> web.Response:
        self.hits[request.path] += 1
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "email", "email_verified"],
            }
        )

    async def jwks(self, request: web.Request) -> web.Response:
        self.hits[request.path] += 1
        return web.json_response(KeySet([self.key]).as_dict(private=False))

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        self.hits[request.path] += 1
        q = request.query
        redirect_uri = q.get("redirect_uri", "")
        if q.get("client_id") != self.client_id or redirect_uri not in self.redirect_uris:
            return web.Response(status=400, text="Unknown client or unregistered redirect_uri.")

        def back(**params: str) -> web.StreamResponse:
            if "state" in q:
                params["state"] = q["state"]
            raise web.HTTPFound(f"{redirect_uri}?{urlencode(params)}")

        if self.misbehave.authorize_error:
            return back(error=self.misbehave.authorize_error, error_description="The provider refused this sign-in.")
        if q.get("response_type") != "code":
            return back(error="unsupported_response_type")
        if "openid" not in q.get("scope", "").split():
            return back(error="invalid_scope")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return back(error="invalid_request", error_description="PKCE (S256) is required")
        code = secrets.token_urlsafe(24)
        self._grants[code] = _Grant(self.client_id, redirect_uri, q["code_challenge"], q.get("nonce"), self.user, time.time() + CODE_SECONDS)
        return back(code=code)

    def _client_ok(self, request: web.Request, form: Any) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                auth = BasicAuth.decode(header)
            except ValueError:
                return False
            return auth.login == self.client_id and secrets.compare_digest(auth.password, self.client_secret)
        return form.get("client_id") == self.client_id and secrets.compare_digest(str(form.get("client_secret", "")), self.client_secret)

    async def token(self, request: web.Request) -> web.Response:
        self.hits[request.path] += 1
        form = await request.post()
        if not self._client_ok(request, form):
            return web.json_response({"error": "invalid_client"}, status=401, headers={"WWW-Authenticate": "Basic"})
        if form.get("grant_type") != "authorization_code":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        grant = self._grants.pop(str(form.get("code", "")), None)
        verifier = str(form.get("code_verifier", ""))
        if (
            grant is None
            or grant.expires < time.time()
            or grant.redirect_uri != form.get("redirect_uri")
            or not compare_s256_code_challenge(verifier, grant.challenge)
        ):
            return web.json_response({"error": "invalid_grant"}, status=400)
        access_token = secrets.token_urlsafe(32)
        return web.json_response(
            {"access_token": access_token, "token_type": "Bearer", "expires_in": 3600, "id_token": self.id_token(grant, access_token)},
            headers={"Cache-Control": "no-store"},
        )

    def id_token(self, grant: _Grant, access_token: str) -> str:
        now = int(time.time())
        bad = self.misbehave
        claims: dict[str, Any] = {
            "iss": bad.issuer or self.issuer,
            "sub": grant.user.sub,
            "aud": bad.audience or grant.client_id,
            "iat": now if bad.expires_in > 0 else now + bad.expires_in - 60,
            "exp": now + bad.expires_in,
            "auth_time": now,
            "email": grant.user.email,
            "at_hash": create_half_hash(access_token, "RS256").decode(),
        }
        if grant.user.email_verified is not None:
            claims["email_verified"] = grant.user.email_verified
        if grant.nonce is not None or bad.nonce:
            claims["nonce"] = bad.nonce or grant.nonce
        key = self.stray_key if bad.unpublished_key else self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid or "", "typ": "JWT"}, claims, key)
