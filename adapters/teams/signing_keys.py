"""Bot Framework's token signing keys, fetched off the event loop, with a timeout, failures remembered.

botbuilder 4.17 checks a request's token against signing keys it downloads
from Microsoft's OpenID metadata with `requests.get` (no timeout) inside a
coroutine: while the download lasts, the event loop (every other request)
waits. A failed download is not remembered either, so every request with a
token, forged ones included, starts another. `SigningKeys` replaces
botbuilder's per-URL cache entry (`JwtTokenExtractor.metadataCache`): one
download at a time, on a worker thread, within `timeout` seconds; after a
failure, requests are refused (`SigningKeysUnavailable`: 401) for
`retry_after` seconds without trying again. botbuilder's own schedule for
successful downloads is kept (once a day, and at most hourly for an unknown
key id).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any

import requests
from botframework.connector.auth import AuthenticationConstants
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor, _OpenIdMetadata

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30.0
"""How long a failed download is remembered: requests in that time are refused at once."""


class SigningKeysUnavailable(Exception):
    """The signing keys could not be downloaded lately: no token can be checked for now."""


class SigningKeys(_OpenIdMetadata):
    """One metadata URL's keys, as botbuilder's `_OpenIdMetadata`, downloaded off the event loop."""

    keys: list[dict[str, Any]]
    last_updated: datetime  # botbuilder sets both, unannotated, in `_OpenIdMetadata.__init__`

    def __init__(self, url: str, timeout: float, retry_after: float = RETRY_AFTER_SECONDS) -> None:
        super().__init__(url)
        self.timeout = timeout
        self.retry_after = retry_after
        self.failed_at: float | None = None
        self.downloads = 0
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    def _loop_lock(self) -> asyncio.Lock:
        """One download at a time per event loop (the cache outlives a loop in tests)."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def _refresh(self) -> None:
        seen = self.last_updated
        self._refuse_if_failed_lately()
        async with self._loop_lock():
            if self.last_updated != seen:
                return  # another request downloaded them while this one waited
            self._refuse_if_failed_lately()
            self.downloads += 1
            try:
                keys = await asyncio.to_thread(self._download)
            except Exception as error:  # unreachable, slow, not JSON, not the expected shape
                self.failed_at = time.monotonic()
                log.warning("teams: could not download the token signing keys (%s); refusing tokens for %.0f s",
                            type(error).__name__, self.retry_after)
                raise SigningKeysUnavailable(type(error).__name__) from error
            self.failed_at = None
            self.keys, self.last_updated = keys, datetime.now()

    def _refuse_if_failed_lately(self) -> None:
        if self.failed_at is not None and time.monotonic() - self.failed_at < self.retry_after:
            raise SigningKeysUnavailable("the last download failed moments ago")

    def _download(self) -> list[dict[str, Any]]:
        metadata = requests.get(self.url, timeout=self.timeout)
        metadata.raise_for_status()
        keys = requests.get(metadata.json()["jwks_uri"], timeout=self.timeout)
        keys.raise_for_status()
        found = keys.json()["keys"]
        if not isinstance(found, list):
            raise ValueError("keys is not a list")
        return found


class _SigningKeysCache(dict[str, Any]):
    """`JwtTokenExtractor.metadataCache` whose entries are `SigningKeys`, whatever botbuilder asks for."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout
        self.moved: dict[str, str] = {}

    def get(self, url: str, default: Any = None) -> SigningKeys:
        found = super().get(url)
        if not isinstance(found, SigningKeys) or found.url != self.moved.get(url, url):
            found = SigningKeys(self.moved.get(url, url), self.timeout)
            self[url] = found
        return found


def guard_signing_keys(timeout: float, channel_metadata_url: str | None = None) -> None:
    """From now on, botbuilder's token checks in this process download signing keys through `SigningKeys`.

    `channel_metadata_url`: where to read the public cloud's channel keys from
    instead of botbuilder's address (a mirror, or a local stand-in in tests).
    """
    cache = JwtTokenExtractor.metadataCache
    if not isinstance(cache, _SigningKeysCache):
        cache = _SigningKeysCache(timeout)
        JwtTokenExtractor.metadataCache = cache
    cache.timeout = timeout
    cache.moved.pop(AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL, None)
    if channel_metadata_url:
        cache.moved[AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL] = channel_metadata_url
    for entry in cache.values():
        entry.timeout = timeout
