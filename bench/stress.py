"""`make stress`: thousands of questions through Slack and Teams while everything around the bot fails.

The run itself (the server, the misbehaving fakes, the members, the kill -9 and the figures) is
`guidebot_testing.stress`, which `tests/test_stress.py` also drives with a smaller plan; this
module is its command line, and writes the figures under "Reliability" in BENCHMARKS.md.

What is sent, what is measured and what passes is written once, in `guidebot_testing.stress`.

    python -m bench.stress [--questions 10000] [--concurrency 50] [--postgres [URL]] [--kill-at 0.5 | --no-kill]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
from pathlib import Path

from bench.markdown import replace_section
from bot.settings import PROJECT_ROOT
from guidebot_testing.stress import Figures, StressPlan, rows, run_stress

REPORT_HEADING = "## Reliability"
DEFAULT_POSTGRES_URL = "postgresql://root@127.0.0.1:5432/test"


def print_report(figures: Figures, plan: StressPlan) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"guidebot under stress: {plan.questions:,} questions, {plan.concurrency} members at once")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in rows(figures, plan):
        table.add_row(name, value)
    console = Console()
    console.print(table)
    for title, examples in (("lost", figures.lost_examples), ("duplicates", figures.duplicate_examples),
                            ("sent again after the SIGKILL", figures.crash_examples), ("errors", figures.error_examples),
                            ("hostile requests answered wrongly", figures.hostile_examples)):
        if examples:
            console.print(f"[bold]{title}[/bold]: " + "; ".join(examples))


def markdown_section(figures: Figures, plan: StressPlan, when: str | None = None) -> str:
    when = when or time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        REPORT_HEADING,
        "",
        f"`make stress` on {platform.machine()} with {os.cpu_count()} CPUs, {when}: "
        f"{plan.questions:,} questions, {plan.concurrency} members at once, over Slack and Teams against the local fakes, "
        f"with 10 % of posts answered 429, 5 % 500/503, 20 % of Slack events retried, 10 % of Teams activities resent, "
        f"the server killed with SIGKILL and restarted mid-run, and {plan.hostile_senders} hostile senders beside the members "
        f"(100 KB pathological texts, deep JSON, lone surrogates, Teams relay attempts).",
        "",
        "| measure | value |",
        "|---|---|",
    ]
    lines += [f"| {name} | {value.replace('|', '/')} |" for name, value in rows(figures, plan)]
    return "\n".join(lines) + "\n"


def write_benchmarks(section: str, path: Path) -> None:
    """Put `section` under "## Reliability" in `path`, replacing an earlier one and keeping the rest."""
    replace_section(path, REPORT_HEADING, section)


# --------------------------------------------------------------------------------------------- command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.stress", description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=StressPlan.questions, help="questions to ask (default 10000)")
    parser.add_argument("--concurrency", type=int, default=StressPlan.concurrency, help="members asking at once (default 50)")
    parser.add_argument("--postgres", nargs="?", const=os.environ.get("GUIDEBOT_DATABASE_URL") or DEFAULT_POSTGRES_URL, default=None,
                        metavar="URL", help=f"use PostgreSQL (a fresh schema at URL; default $GUIDEBOT_DATABASE_URL or {DEFAULT_POSTGRES_URL})")
    parser.add_argument("--kill-at", type=float, default=0.5, help="kill -9 and restart the server after this fraction of the questions (default 0.5)")
    parser.add_argument("--no-kill", action="store_true", help="never kill the server")
    parser.add_argument("--hostile-senders", type=int, default=StressPlan.hostile_senders,
                        help="senders of huge, pathological and relaying requests beside the members (default 2; 0: none)")
    parser.add_argument("--seed", type=int, default=StressPlan.seed)
    parser.add_argument("--time-limit", type=float, default=StressPlan.time_limit, help="seconds before the run stops asking (default 900)")
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "BENCHMARKS.md", help="where the Reliability section goes")
    parser.add_argument("--no-write", action="store_true", help="print the figures only")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON object")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR", help="run in DIR (a new directory) and keep the server log and database there")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.questions < 1 or args.concurrency < 1:
        raise SystemExit("--questions and --concurrency must be positive")
    plan = StressPlan(
        questions=args.questions,
        concurrency=args.concurrency,
        kill_at=None if args.no_kill else args.kill_at,
        database_url=args.postgres,
        seed=args.seed,
        time_limit=args.time_limit,
        hostile_senders=args.hostile_senders,
    )
    if args.keep is not None:
        args.keep.mkdir(parents=True)
    figures = asyncio.run(run_stress(plan, workdir=args.keep))
    print_report(figures, plan)
    if args.json:
        print(json.dumps({name: value for name, value in rows(figures, plan)}, ensure_ascii=False))
    if not args.no_write:
        write_benchmarks(markdown_section(figures, plan), args.output)
        print(f"figures written under \"{REPORT_HEADING[3:]}\" in {args.output}")
    return 0 if figures.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
