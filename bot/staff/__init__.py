"""Program staff on the web dashboard: invites, sign-in sessions, the audit log and the overview's numbers.

`StaffDesk` is the core object the dashboard's adapter (`adapters.staff`) and `guidebot staff` use;
it holds no state of its own, only the store's. Invite links and session cookies carry random
tokens (`secrets.token_urlsafe`); the store keeps only their SHA-256, so reading the database or a
backup signs nobody in. An invite is good once, for `staff_invite_hours`; a session lasts
`staff_session_hours`. A session's CSRF token is derived from its token (a keyed digest), so a page
can carry it in a form and no other site can know it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.settings import Settings
from bot.staff.overview import PERIODS, Overview, build_overview, period_days
from bot.staff.unanswered import Unanswered, build_unanswered
from bot.store import StateStore, utc_now

if TYPE_CHECKING:
    from bot.engine import AnswerEngine

__all__ = ["PERIODS", "InvalidEmail", "Invite", "Overview", "SignedIn", "StaffDesk", "Unanswered", "csrf_ok", "normalize_email", "period_days"]

_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


class InvalidEmail(ValueError):
    """Not an e-mail address a staff member could have."""


def normalize_email(email: str) -> str:
    cleaned = email.strip().lower()
    if not _EMAIL.match(cleaned):
        raise InvalidEmail(f"not an e-mail address: {email!r}")
    return cleaned


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Invite:
    """A one-time sign-in link for `email`, good until `expires_at`."""

    def __init__(self, email: str, link: str, hours: float) -> None:
        self.email, self.link, self.hours = email, link, hours


class SignedIn:
    """A live staff session: who, and the CSRF token its forms must carry."""

    def __init__(self, email: str, session_token: str) -> None:
        self.email = email
        self.csrf = csrf_token(session_token)


def csrf_token(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"guidebot-staff-csrf", hashlib.sha256).hexdigest()


def csrf_ok(session_token: str, offered: str | None) -> bool:
    return bool(offered) and hmac.compare_digest(csrf_token(session_token), str(offered))


class StaffDesk:
    """Staff accounts, invites and sessions over the store, and the dashboard's overview."""

    def __init__(self, store: StateStore, settings: Settings, clock: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.settings = settings
        self._clock = clock

    # ------------------------------------------------------------ accounts

    def base_url(self) -> str:
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        return f"http://127.0.0.1:{self.settings.port}"

    def invite(self, email: str, *, by: str = "cli") -> Invite:
        """Make `email` a staff member and a one-time sign-in link for it (printed, never stored in the clear)."""
        address = normalize_email(email)
        token = secrets.token_urlsafe(32)
        hours = self.settings.staff_invite_hours
        now = self._clock()
        self.store.add_staff_invite(address, token_digest(token), now + timedelta(hours=hours))
        self.store.audit(by, "invite", address)
        return Invite(address, f"{self.base_url()}/staff/sign-in?token={token}", hours)

    def revoke(self, email: str, *, by: str = "cli") -> bool:
        """Revoke `email`: its sessions end now and its unused links stop working."""
        address = normalize_email(email)
        revoked = self.store.revoke_staff(address)
        if revoked:
            self.store.audit(by, "revoke", address)
        return revoked

    def members(self) -> list[dict[str, object]]:
        return self.store.list_staff()

    # ------------------------------------------------------------ sessions

    def sign_in(self, invite_token: str) -> tuple[str, SignedIn] | None:
        """Spend an invite link: (the new session's token, who), or None when the link is unknown, used,
        expired or its member revoked."""
        if not _TOKEN.match(invite_token or ""):
            return None
        session_token = secrets.token_urlsafe(32)
        expires = self._clock() + timedelta(hours=self.settings.staff_session_hours)
        email = self.store.use_staff_invite(token_digest(invite_token), token_digest(session_token), expires)
        if email is None:
            self.store.audit("(unknown)", "sign-in refused")
            return None
        self.store.audit(email, "sign-in")
        return session_token, SignedIn(email, session_token)

    def sign_in_verified(self, email: str, *, add: bool, how: str) -> tuple[str, SignedIn] | str:
        """Sign in `email`, whom a provider vouched for (`how`: "oidc"), adding them as staff if `add`: (the new
        session's token, who), or why not: "revoked", or "unknown" (not staff, and `add` false)."""
        session_token = secrets.token_urlsafe(32)
        expires = self._clock() + timedelta(hours=self.settings.staff_session_hours)
        opened = self.store.open_staff_session(email, token_digest(session_token), expires, add=add)
        if opened in ("revoked", "unknown"):
            return opened
        if opened == "added":
            self.store.audit(email, f"added ({how})", email)
        self.store.audit(email, f"sign-in ({how})")
        return session_token, SignedIn(email, session_token)

    def signed_in(self, session_token: str | None) -> SignedIn | None:
        if not session_token or not _TOKEN.match(session_token):
            return None
        email = self.store.staff_for_session(token_digest(session_token))
        return None if email is None else SignedIn(email, session_token)

    def sign_out(self, session_token: str, who: str) -> None:
        self.store.end_staff_session(token_digest(session_token))
        self.store.audit(who, "sign-out")

    def record(self, who: str, action: str, detail: str = "") -> None:
        """A staff action for the audit log: who and what, never a member's question."""
        self.store.audit(who, action, detail)

    # ------------------------------------------------------------ the overview

    def overview(self, days: int) -> Overview:
        return build_overview(self.store, days, self._clock())

    def unanswered(self, days: int, engine: Callable[[], AnswerEngine] | None = None) -> Unanswered:
        """The period's unanswered questions grouped, each group with its nearest section (from `engine`, the live one)."""
        return build_unanswered(self.store, days, self._clock(), engine)

