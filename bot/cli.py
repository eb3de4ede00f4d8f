"""`guidebot`: build the index, ask, evaluate, run commands, serve, and staff tools."""

from __future__ import annotations

import json
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.settings import Settings

app = typer.Typer(help="guidebot: answers from the program's guide, with quoted passages and sources.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
PLATFORM = "cli"
"""The platform `guidebot ask`, `guidebot command` and the interactive prompt log their questions under."""
OFFLINE_ENVIRONMENT = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
"""Set, unless already set, when a command runs (never on import): the bundled model never reaches for the
network, and the tokenizers' fork warning stays out of the output."""


@app.callback()
def _offline() -> None:
    for name, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", soft_wrap=True)  # a path in it stays one piece to copy
    return typer.Exit(code)


def _embedder():
    """The model, loaded once per command that answers or indexes; numpy's BLAS is held to `blas_threads` from
    here on (the process ends with the command)."""
    from threadpoolctl import threadpool_limits

    from bot.embedding import load_embedder
    from index.embedder import EmbedderError

    settings = get_settings()
    threadpool_limits(limits=settings.blas_threads or None, user_api="blas")
    try:
        return load_embedder(settings)
    except EmbedderError as exc:
        raise _fail(str(exc)) from exc


def _engine():
    from bot.engine import AnswerEngine
    from index.guide_index import load_index
    from index.persist import IndexMissingError

    settings = get_settings()
    embedder = _embedder()
    try:
        index = load_index(settings.index_dir, expected_model=embedder.name)
    except IndexMissingError as exc:
        raise _fail(str(exc)) from exc
    return AnswerEngine(index, embedder, top_k=settings.top_k, max_chars=settings.max_question_chars)


@app.command()
def index(force: Annotated[bool, typer.Option("--force", help="Rebuild even when nothing changed.")] = False) -> None:
    """Build the index from knowledge/documents (only when documents or model changed)."""
    from bot.abstain import prepare_fit
    from bot.indexing import build_index
    from knowledge.loaders import DocumentError

    settings = get_settings()
    prepare_fit()  # scikit-learn (for the abstention fit) loads while the model does
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("Loading the embedding model", total=None)
        embedder = _embedder()
        try:
            result = build_index(settings, embedder, force=force, progress=lambda msg: bar.update(task, description=msg))
        except (DocumentError, FileNotFoundError) as exc:
            raise _fail(str(exc)) from exc
    m = result.manifest
    if result.built:
        console.print(
            f"Index built ({result.reason}): {m.documents} document(s), {m.chunks} chunks, "
            f"{m.dense_kind}, model {Path(m.model).name}, {result.embedded} texts embedded "
            f"and {result.texts - result.embedded} from the cache, in {result.seconds:.1f}s → {result.path}"
        )
    else:
        console.print(f"Index is up to date: {m.documents} document(s), {m.chunks} chunks ({result.path}).")


def _ask_rows(file: Path | None, question: str | None) -> list[str]:
    from bot.evaluation import read_jsonl

    if file is not None:
        try:
            return [row["q"] for row in read_jsonl(file)]
        except (OSError, ValueError) as exc:
            raise _fail(str(exc)) from exc
    if question is None:
        raise _fail('give a question, e.g. guidebot ask "What does a VPMA do?", or --file questions.jsonl', 2)
    return [question]


@app.command()
def ask(
    question: Annotated[Optional[str], typer.Argument(help="The question; omit it for an interactive prompt.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per question.")] = False,
    file: Annotated[Optional[Path], typer.Option("--file", help='JSONL file of {"q": ...} objects.')] = None,
) -> None:
    """Ask the guide a question (or start an interactive prompt).

    Answered through the core (`Guidebot.respond`), as on every platform, so a question with patient
    details is refused and logged redacted, and every question is in the log `guidebot report` reads.
    """
    from bot.render_text import render_reply

    if question is None and file is None:
        _interactive()
        return
    rows = _ask_rows(file, question)
    guidebot = _guidebot()
    try:
        replies = [_respond(guidebot, row) for row in rows]
    finally:
        guidebot.store.close()
    for reply in replies:
        if as_json:
            sys.stdout.write(json.dumps(reply.to_json(), ensure_ascii=False) + "\n")
        else:
            console.print(render_reply(reply))


def _guidebot():
    """The core every platform calls (`Guidebot.respond`): commands and questions read as in Slack and Teams."""
    from bot.wiring import build_guidebot

    return build_guidebot(get_settings(), _embedder())


def _respond(guidebot, text: str):
    from bot.service import Inbound
    from index.persist import IndexMissingError

    try:
        return guidebot.respond(Inbound(text=text, platform=PLATFORM))
    except IndexMissingError as exc:
        raise _fail(str(exc)) from exc


def _interactive() -> None:
    from bot.render_text import render_reply

    guidebot = _guidebot()
    console.print("Ask about the guide (roles, credentials, the path to CMO). Commands: help, roles, path … Ctrl-D to quit.")
    try:
        while True:
            try:
                text = console.input("[bold cyan]you>[/bold cyan] ")
            except (EOFError, KeyboardInterrupt):
                console.print()
                return
            console.print(render_reply(_respond(guidebot, text)))
    finally:
        guidebot.store.close()


@app.command()
def command(text: Annotated[str, typer.Argument(help='e.g. "role vpma", "credential DO", "path", "help", or a question')]) -> None:
    """Reply as `/guide …` does in Slack: a command's summary, or the answer to anything else."""
    from bot.render_text import render_reply

    guidebot = _guidebot()
    try:
        reply = _respond(guidebot, text.strip() or "help")
    finally:
        guidebot.store.close()
    console.print(render_reply(reply))


def _message_sizes() -> dict:
    """Each platform's answer-message size, from the adapters that register one (`guidebot.message_size`)."""
    from importlib.metadata import entry_points

    return {entry.name: entry.load() for entry in sorted(entry_points(group="guidebot.message_size"), key=lambda e: e.name)}


@app.command(name="eval")
def eval_(
    questions: Annotated[Path, typer.Option("--questions", help="On-topic JSONL with gold phrases.")],
    oos: Annotated[Optional[Path], typer.Option("--oos", help="Off-topic JSONL the guide does not cover.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List misses and wrong abstentions.")] = False,
) -> None:
    """Measure answers: Hit@1, Hit@3, MRR@5, lead hit, answered and refused shares, passages shown, message length."""
    from bot.evaluation import evaluate, read_jsonl

    try:
        on_topic = read_jsonl(questions)
        off_topic = read_jsonl(oos) if oos else []
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    report = evaluate(_engine(), on_topic, off_topic, _message_sizes())
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title="guidebot eval")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row(f"Hit@1 ({report.questions} on-topic)", f"{report.hit_at_1:.3f}")
    table.add_row("Hit@3", f"{report.hit_at_3:.3f}")
    table.add_row("MRR@5", f"{report.mrr_at_5:.3f}")
    table.add_row("lead hit", f"{report.lead_hit:.3f}")
    table.add_row("  its first sentence a hit", f"{report.first_line_hit:.3f}")
    table.add_row("longest lead (chars)", str(report.max_lead_chars))
    table.add_row("on-topic answered", f"{report.answered:.1%}")
    if oos:
        table.add_row(f"off-topic refused ({report.oos_questions})", f"{report.oos_refused:.1%}")
    table.add_row("passages shown (mean)", f"{report.mean_passages:.2f}")
    for name, chars in report.median_message_chars.items():
        table.add_row(f"{name} answer message (median chars)", f"{chars:.0f}")
    point = report.operating_point
    if point:
        table.add_row("abstention threshold (banks' CV folds)", f"{point['threshold']:.3f}")
        if "coverage" in point and "risk" in point:
            table.add_row("  in-scope bank answered there", f"{point['coverage']:.1%}")
            table.add_row("  risk there (wrong answers / answers)", f"{point['risk']:.3f}")
    console.print(table)
    if verbose:
        for r in report.misses:
            console.print(f"[yellow]miss[/yellow] (rank {r.rank}) {r.question} → {', '.join(r.sections)}")
        for r in report.lead_misses:
            console.print(f"[yellow]lead miss[/yellow] {r.question} → {' | '.join(s[:90] for s in r.lead)}")
        for r in report.abstained_on_topic:
            console.print(f"[yellow]refused on-topic[/yellow] ({r.confidence:.2f}) {r.question}")
        for r in report.answered_off_topic:
            console.print(f"[red]answered off-topic[/red] ({r.confidence:.2f}) {r.question}")


def _register_plugins() -> None:
    """Staff, server and platform commands live beside the modules they drive.

    Adapters register theirs through the `guidebot.cli` entry point group, so
    the core never imports an adapter.
    """
    from importlib.metadata import entry_points

    from bot import server_cli, staff_cli

    staff_cli.register(app, get_settings)
    server_cli.register(app, get_settings)
    for entry in sorted(entry_points(group="guidebot.cli"), key=lambda e: e.name):
        entry.load()(app, get_settings)


_register_plugins()


if __name__ == "__main__":
    app()
