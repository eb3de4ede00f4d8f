"""Process-wide logging: structured JSON for machines, or a readable line for people.

Members are physicians and may paste patient details, so nothing here (or in
the server) logs what a member typed: log ids, lengths and outcomes instead.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


class ReadableFormatter(logging.Formatter):
    """`time level logger: message key=value …` with the `extra=` fields kept."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(f"{k}={v}" for k, v in record.__dict__.items() if k not in _STANDARD)
        return f"{line}  {extras}" if extras else line


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )


def configure_logging(level: str = "INFO", json_logs: bool = True, stream: TextIO | None = None) -> None:
    """Send every logger's records to one handler on stderr (the container's log)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(json_formatter() if json_logs else ReadableFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiohttp's own access log prints the request line (with any query string); the
    # server's middleware logs each request instead, with the route and no query.
    logging.getLogger("aiohttp.access").disabled = True
