"""Small statistics for noisy machines: medians and p99, and ratios to a baseline from the same run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Sample:
    """Latencies in seconds."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, values) -> Sample:
        return cls(tuple(float(v) for v in values))

    @property
    def p50(self) -> float:
        return float(np.percentile(self.values, 50)) if self.values else float("nan")

    @property
    def p99(self) -> float:
        return float(np.percentile(self.values, 99)) if self.values else float("nan")

    def __len__(self) -> int:
        return len(self.values)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}×" if baseline > 0 else "n/a"


@dataclass
class Row:
    part: str
    measure: str
    value: str
    ratio: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        return {True: "met", False: "NOT met", None: ""}[self.met]
