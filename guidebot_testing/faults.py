"""Seeded failure injection for the fake platforms: a share of calls answered 429 or 5xx.

The real Slack and Bot Framework answer some posts with 429 (and `Retry-After`) or a 500 / 503
under load. A fake given `RandomFailures` does the same, reproducibly for one seed, and counts
what it injected so a run can report it.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Failure:
    """One injected failure: the HTTP status and, for a 429, the `Retry-After` seconds."""

    status: int
    retry_after: int | None = None


@dataclass
class RandomFailures:
    """Answer `rate_limited` of the calls with 429 and `server_error` with 500 or 503."""

    rate_limited: float = 0.10
    server_error: float = 0.05
    retry_after_seconds: int = 1
    rng: random.Random = field(default_factory=random.Random)
    injected: Counter[str] = field(default_factory=Counter)
    """Failures handed out, by `"<platform> <status>"` ("slack 429", "teams 503" …)."""

    def draw(self, platform: str) -> Failure | None:
        """Whether this call fails, and how; counted under `platform`."""
        draw = self.rng.random()
        if draw < self.rate_limited:
            failure = Failure(429, self.retry_after_seconds)
        elif draw < self.rate_limited + self.server_error:
            failure = Failure(self.rng.choice((500, 503)))
        else:
            return None
        self.injected[f"{platform} {failure.status}"] += 1
        return failure
