"""The staff dashboard on a year of questions: `make bench`'s "Staff dashboard" section.

`python -m bench.run --only dashboard` runs this part alone. For each store (a fresh SQLite file, and a
fresh PostgreSQL schema when GUIDEBOT_BENCH_POSTGRES_URL or the local postgresql://root@127.0.0.1:5432/test
answers), 100,000 questions spread over 365 days are written with bulk inserts
(`guidebot_testing.staff_year`), then `guidebot serve` runs on that store as a subprocess and a staff
member signed in through an invite link (its page and button, as a browser does) opens, over HTTP on
loopback, the Overview for 365 days, the Unanswered page for 365 days and the open Hand-offs queue.

Cold is each page's first request after the server started (no cache of ours holds anything; the
operating system's file cache does, as on a server that has been up); warm is the same page asked
again. The server is started `COLD_RUNS` times, so cold and warm are both medians. The baseline, in the
same server and the same minutes, is an empty request (`GET /healthz`).
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import tempfile
import time
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from adapters.staff import STAFF_COOKIE
from bench.markdown import replace_section, rows_table
from bench.stats import Row, Sample, ms, ratio
from bot.settings import PROJECT_ROOT, Settings
from bot.staff import StaffDesk
from bot.store import SqlStore
from guidebot_testing.servers import RunningServer, launch, server_env
from guidebot_testing.staff_year import SeededYear, seed_year

QUESTIONS = 100_000
DAYS = 365
COLD_RUNS = 3
WARM_RUNS = 5
BASELINE_RUNS = 20
TARGET_SECONDS = 1.0
DEFAULT_POSTGRES_URL = "postgresql://root@127.0.0.1:5432/test"
REPORT_HEADING = "## Staff dashboard"
PAGES = (
    ("Overview", f"/staff?days={DAYS}"),
    ("Unanswered", f"/staff/unanswered?days={DAYS}"),
    ("Hand-offs (open)", "/staff/handoffs"),
)


def postgres_url() -> tuple[str | None, str]:
    """The PostgreSQL to bench on, or None and why not."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = os.environ.get("GUIDEBOT_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    try:
        psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False), connect_timeout=3).close()
    except psycopg.Error as error:
        where = make_url(url)
        return None, f"PostgreSQL not reachable at {where.host}:{where.port or 5432} ({str(error).strip().splitlines()[0]})"
    return url, ""


def request(server: RunningServer, method: str, path: str, session: str | None = None, form: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection, redirects not followed (the sign-in's cookie comes with a 303)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    headers = {"Cookie": f"{STAFF_COOKIE}={session}"} if session else {}
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def sign_in(server: RunningServer, link: str) -> str:
    """Spend an invite link as a browser does (its page, then its button): the session cookie."""
    status, _, page = request(server, "GET", urlsplit(link).path + "?" + urlsplit(link).query)
    token = re.search(rb'name="token" value="([^"]+)"', page)
    if status != 200 or token is None:
        raise RuntimeError(f"the sign-in page answered {status}")
    status, headers, _ = request(server, "POST", "/staff/sign-in", form={"token": token.group(1).decode()})
    cookie = re.search(rf"{STAFF_COOKIE}=([^;]+)", headers.get("set-cookie", ""))
    if status != 303 or cookie is None:
        raise RuntimeError(f"the sign-in answered {status}")
    return cookie.group(1)


def timed(server: RunningServer, path: str, session: str | None) -> float:
    started = time.perf_counter()
    status, _, body = request(server, "GET", path, session)
    seconds = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
    return seconds


def measure(settings: Settings, url: str, log: Path) -> tuple[dict[str, tuple[Sample, Sample]], Sample, dict[str, object]]:
    """The pages' cold and warm times, the baseline's, and what the server's JSON says of the year."""
    env = server_env(settings.data_dir, {"GUIDEBOT_DATABASE_URL": url, "GUIDEBOT_LOG_LEVEL": "WARNING"})
    store = SqlStore(url)
    try:
        link = StaffDesk(store, settings.model_copy(update={"public_url": None})).invite("bench@example.org").link
    finally:
        store.close()
    cold: dict[str, list[float]] = {name: [] for name, _ in PAGES}
    warm: dict[str, list[float]] = {name: [] for name, _ in PAGES}
    baseline: list[float] = []
    seen: dict[str, object] = {}
    session = None
    for run in range(COLD_RUNS):
        server = launch(env, data_dir=settings.data_dir, log_path=log)
        try:
            session = session or sign_in(server, link)
            # Each run opens the pages first in another order, so no page always pays for the server's first request.
            order = PAGES[run % len(PAGES):] + PAGES[: run % len(PAGES)]
            for name, path in order:
                cold[name].append(timed(server, path, session))
            for _ in range(WARM_RUNS):
                for name, path in PAGES:
                    warm[name].append(timed(server, path, session))
            baseline += [timed(server, "/healthz", None) for _ in range(BASELINE_RUNS)]
            if run == 0:
                seen = year_seen(server, session)
        finally:
            server.stop()
    return {name: (Sample.of(cold[name]), Sample.of(warm[name])) for name, _ in PAGES}, Sample.of(baseline), seen


def year_seen(server: RunningServer, session: str) -> dict[str, object]:
    """The numbers the dashboard's JSON gives for the year: the bench checks it timed pages over all of it."""
    import json

    overview = json.loads(request(server, "GET", f"/staff/api/overview?days={DAYS}", session)[2])
    unanswered = json.loads(request(server, "GET", f"/staff/api/unanswered?days={DAYS}", session)[2])
    handoffs = json.loads(request(server, "GET", "/staff/api/handoffs", session)[2])
    return {
        "asked": overview["totals"]["asked"],
        "unanswered": unanswered["unanswered"],
        "wordings": unanswered["wordings"],
        "grouped": unanswered["grouped"],
        "groups": len(unanswered["groups"]) + unanswered["groups_not_shown"],
        "open": handoffs["counts"]["open"],
        "listed": len(handoffs["handoffs"]),
    }


def rows_for(backend: str, year: SeededYear, pages: dict[str, tuple[Sample, Sample]], baseline: Sample, seen: dict[str, object]) -> list[Row]:
    refused = sum(not q["answered"] for q in year.questions)
    rows = [
        Row(
            "7 dashboard",
            f"{backend}: seed {len(year.questions):,} questions over {DAYS} days ({refused:,} refused in {year.refused_wordings:,} wordings, "
            f"{len(year.votes):,} votes, {len(year.handoffs):,} hand-offs), bulk inserts",
            f"{year.seconds:.1f} s",
        ),
        Row("7 dashboard", f"{backend}: baseline, an empty request on the same server (GET /healthz, n={len(baseline)})", f"p50 {ms(baseline.p50)}", "1.00×"),
    ]
    for name, path in PAGES:
        cold, warm = pages[name]
        rows.append(
            Row(
                "7 dashboard",
                f"{backend}: {name} (`{path}`), cold (n={len(cold)}) · warm (n={len(warm)})",
                f"p50 {ms(cold.p50)} · {ms(warm.p50)}",
                f"warm p50 {ratio(warm.p50, baseline.p50)}",
                "cold p50 ≤ 1 s",
                cold.p50 <= TARGET_SECONDS,
            )
        )
    rows.append(
        Row(
            "7 dashboard",
            f"{backend}: what the pages showed",
            f"{seen['asked']:,} asked · {seen['unanswered']:,} unanswered in {seen['wordings']:,} wordings ({seen['grouped']} grouped into {seen['groups']}) · "
            f"{seen['listed']} of {seen['open']} open hand-offs listed",
        )
    )
    return rows


def part_dashboard(settings: Settings) -> tuple[list[Row], list[str]]:
    """The section's rows, and what was skipped (and why)."""
    from guidebot_testing.stress import postgres_schema

    rows: list[Row] = []
    skipped: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="guidebot-bench-dashboard-"))
    try:
        backends: list[tuple[str, str]] = [("SQLite", f"sqlite:///{tmp / 'dashboard.sqlite3'}")]
        pg, why = postgres_url()
        if pg is None:
            skipped.append(f"PostgreSQL skipped: {why}")
            print(skipped[-1])
        else:
            backends.append(("PostgreSQL", pg))
        for backend, url in backends:
            with postgres_schema(url) if backend == "PostgreSQL" else nullcontext(url) as used:
                print(f"7. dashboard on {backend}: seeding {QUESTIONS:,} questions")
                year = seed_year(used, QUESTIONS, datetime.now(timezone.utc), days=DAYS)
                print(f"   seeded in {year.seconds:.1f} s; timing the pages")
                pages, baseline, seen = measure(settings, used, tmp / f"server-{backend}.log")
                rows += rows_for(backend, year, pages, baseline, seen)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows, skipped


def markdown_section(rows: list[Row], skipped: list[str], meta: str) -> str:
    lines = [
        REPORT_HEADING,
        "",
        f"`python -m bench.run --only dashboard` (also part of `make bench`), {meta}. A year of questions "
        f"({QUESTIONS:,}) is written into a fresh store, then `guidebot serve` runs on it and a staff member signed in "
        "through an invite link opens the pages over HTTP. Cold: a page's first request after the server started "
        f"(the server started {COLD_RUNS} times); warm: the same page again ({WARM_RUNS} times a start). The Unanswered "
        "page embeds the most asked wordings (at most 300) and looks up the largest groups' sections in the guide; "
        "opened again, it takes both from the server's memory (`bot/staff/memo.py`), so only its GROUP BY and the "
        "grouping itself are left. Every count is SQL in the store (`bot/store/staff.py`); the seeding is bulk "
        "inserts into the store's tables (`guidebot_testing/staff_year.py`). The bench checks the pages showed the "
        "whole year (the last row of each store).",
        "",
        *rows_table(rows),
    ]
    lines += [""] + [f"{line}." for line in skipped]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_section(section: str, path: Path = PROJECT_ROOT / "BENCHMARKS.md") -> None:
    """Put `section` under its heading in `path`, replacing an earlier one and keeping the rest."""
    replace_section(path, REPORT_HEADING, section)


def run(settings: Settings) -> list[Row]:
    """The section measured and written into BENCHMARKS.md: its rows (for the bench's console table)."""
    import platform

    started = time.perf_counter()
    load = os.getloadavg()[0]
    rows, skipped = part_dashboard(settings)
    meta = (
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores ({platform.machine()}), load average "
        f"{load:.1f} at start / {os.getloadavg()[0]:.1f} at end, {time.perf_counter() - started:.0f} s"
    )
    write_section(markdown_section(rows, skipped, meta))
    return rows
