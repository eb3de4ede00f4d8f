"""Connector calls that survive 429 and 5xx: retried with back-off, Retry-After honoured.

A member is waiting, so retries stop at `RetryPolicy.deadline`; a reply
that still cannot be delivered is logged with the activity id (never the text)
and counted, then raised as `DeliveryFailed` so the turn ends visibly.

msrest's own retries (urllib3, which would retry some 5xx but not 429, and turn
an exhausted retry into a different error) are switched off for the clients we
send with, so this is the one retry layer.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

import aiohttp
from msrest.exceptions import ClientRequestError, HttpOperationError
from prometheus_client import Counter

from bot.metrics import ERRORS, REGISTRY

log = logging.getLogger(__name__)
T = TypeVar("T")

CONNECTOR_RETRIES = Counter(
    "guidebot_teams_connector_retries",
    "Teams connector calls retried, by the status that caused the retry (0: no response)",
    ["status"],
    registry=REGISTRY,
)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 4.0
    deadline: float = 10.0
    """Seconds from the first attempt after which no retry starts: well inside the question's lease."""


class DeliveryFailed(Exception):
    """A connector call failed for good; already logged with the activity id."""

    def __init__(self, status: int | None) -> None:
        super().__init__(f"Teams connector call failed (status {status})")
        self.status = status

    @property
    def transient(self) -> bool:
        """Throttled, unavailable or unreachable: worth trying again later, unlike a refusal (4xx)."""
        return self.status is None or self.status in (408, 429) or self.status >= 500


def _status(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return int(status) if isinstance(status, int) else None


def is_transient(error: BaseException) -> bool:
    if isinstance(error, HttpOperationError):
        status = _status(error)
        return status is None or status in (408, 429) or (status >= 500 and status not in (501, 505))
    return isinstance(error, (ClientRequestError, aiohttp.ClientError, asyncio.TimeoutError, ConnectionError))


def retry_after(error: BaseException, now: float | None = None) -> float | None:
    """Seconds the connector asked us to wait (`Retry-After`: seconds or an HTTP date)."""
    headers: Any = getattr(getattr(error, "response", None), "headers", None) or {}
    try:
        value = headers.get("Retry-After") or headers.get("retry-after")
    except AttributeError:
        return None
    if not value:
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = datetime.fromtimestamp(now if now is not None else time.time(), timezone.utc)
    return max(0.0, (when - current).total_seconds())


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    activity_id: str | None,
    operation: str,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> T:
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except Exception as error:  # classified below; anything not transient ends here
            status = _status(error)
            transient = is_transient(error)
            if transient and attempt < policy.attempts:
                backoff = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
                delay = max(backoff, retry_after(error) or 0.0)
                if time.monotonic() - started + delay <= policy.deadline:
                    CONNECTOR_RETRIES.labels(str(status or 0)).inc()
                    log.warning(
                        "teams connector %s failed (status %s), retrying in %.2fs",
                        operation,
                        status,
                        delay,
                        extra={"activity_id": activity_id, "status": status, "attempt": attempt},
                    )
                    await sleep(delay)
                    continue
            ERRORS.labels("teams_delivery").inc()
            log.error(
                "teams connector %s failed for good after %d attempt(s) (status %s, %s) for activity %s",
                operation,
                attempt,
                status,
                type(error).__name__,
                activity_id,
                extra={"activity_id": activity_id, "status": status, "attempts": attempt},
            )
            raise DeliveryFailed(status) from error


def single_retry_layer(connector_client: Any) -> None:
    """Switch off msrest's urllib3 retries on a connector client (we retry ourselves)."""
    config = getattr(connector_client, "config", None)
    policy = getattr(config, "retry_policy", None)
    if policy is None:
        return
    policy.retries = 0
    inner = getattr(policy, "policy", None)
    if inner is not None:
        inner.status_forcelist = set()
        inner.raise_on_status = False
