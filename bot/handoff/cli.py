"""`guidebot handoffs list [--open]` and `guidebot handoffs publish <id> [--title "…"]`: the program team's queue
in the terminal, and a reply put into the guide. Registered through the `guidebot.cli` entry point."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.handoff.desk import HandoffDesk
from bot.handoff.model import Handoff, HandoffError
from bot.inbox import Inbox
from bot.settings import Settings
from bot.store import SqlStore

QUESTION_CHARS = 80


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def handoffs_table(handoffs: list[Handoff]) -> Table:
    """The queue, oldest first. Every cell is plain text (`Text`): members' words are never read as markup."""
    table = Table(title=f"Hand-offs to the program team ({len(handoffs)})")
    for column in ("id", "opened (UTC)", "state", "member", "question", "replies"):
        table.add_column(column, overflow="fold")
    for h in handoffs:
        last = h.last_reply
        replies = f"{len(h.replies)}, last by {last.who} {last.at:%Y-%m-%d %H:%M}" if last else "none"
        if h.state == "open" and h.staff_post is None:
            replies += " (not posted yet)"
        opened = f"{h.created_at:%Y-%m-%d %H:%M}" if h.created_at else ""
        cells = (h.id, opened, h.state, f"{h.member_name} ({h.member_platform})", _clip(h.question, QUESTION_CHARS), replies)
        table.add_row(*(Text(cell) for cell in cells))
    return table


def register(app: typer.Typer, get_settings: Callable[[], Settings]) -> None:
    handoffs = typer.Typer(help="Questions members handed to the program team (GUIDEBOT_STAFF_CHANNEL).", no_args_is_help=True)

    @handoffs.command("list")
    def list_handoffs(
        open_only: Annotated[bool, typer.Option("--open", help="Only hand-offs nobody has replied to yet.")] = False,
    ) -> None:
        """The hand-offs, oldest first: who asked, what, and who replied."""
        store = SqlStore.for_settings(get_settings())
        try:
            found = store.handoffs(open_only=open_only)
        finally:
            store.close()
        Console().print(handoffs_table(found))

    @handoffs.command("publish")
    def publish(
        handoff_id: Annotated[str, typer.Argument(help="The hand-off's id, as `guidebot handoffs list` shows it.")],
        title: Annotated[
            str | None, typer.Option("--title", help="The question as the guide should word it (default: the member's, redacted).")
        ] = None,
    ) -> None:
        """Write the program team's reply, verbatim and dated, into knowledge/documents/program-team-answers.md."""
        settings = get_settings()
        store = SqlStore.for_settings(settings)
        try:
            desk = HandoffDesk(store, Inbox(store, settings, store.member_hash), settings, {})
            handoff, path = desk.publish_now(handoff_id, title)
        except HandoffError as error:
            Console(stderr=True).print(Text(f"error: {error}", style="red"))
            raise typer.Exit(1) from error
        finally:
            store.close()
        typer.echo(f"Published hand-off {handoff.id} as “{handoff.published_title}” in {path}.")
        typer.echo("Run `guidebot index` to answer from it.")

    app.add_typer(handoffs, name="handoffs")
