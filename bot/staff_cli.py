"""Staff commands on the main CLI: `guidebot report`, `guidebot purge`, and `guidebot staff` (the dashboard's accounts)."""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Annotated

import typer
from rich.console import Console

from bot.report import Embed, build_report, report_to_csv, report_to_json, report_to_table
from bot.settings import Settings
from bot.staff import InvalidEmail, StaffDesk
from bot.store import SqlStore, utc_now

log = logging.getLogger(__name__)


class ReportFormat(str, enum.Enum):
    table = "table"
    csv = "csv"
    json = "json"


def load_embed(settings: Settings) -> Embed | None:
    """The index's embedder, or None (fuzzy grouping) when it cannot be had.

    Imported here, not at module level, so the staff commands work on an
    install without the index package and never pay for loading a model
    unless a report asks for it.
    """
    try:
        from bot.embedding import load_embedder
        from index.embedder import EmbedderError
    except ImportError as error:
        log.warning("no embedder (%s); grouping unanswered questions by fuzzy matching", error)
        return None
    try:
        return load_embedder(settings).encode
    except EmbedderError as error:
        log.warning("%s; grouping unanswered questions by fuzzy matching", error)
        return None


def register(app: typer.Typer, get_settings: Callable[[], Settings]) -> None:
    @app.command("report")
    def report(
        since: Annotated[
            datetime | None,
            typer.Option(formats=["%Y-%m-%d"], help="Only questions asked on or after this day (UTC)."),
        ] = None,
        output: Annotated[
            ReportFormat, typer.Option("--format", help="table for people, csv or json for tools.")
        ] = ReportFormat.table,
        embed: Annotated[
            bool,
            typer.Option(
                "--embed/--no-embed",
                help="Group unanswered questions with the embedding model (else fuzzy matching).",
            ),
        ] = True,
    ) -> None:
        """Questions per platform, answer rate, unanswered questions grouped, 👍/👎 by section."""
        settings = get_settings()
        store = SqlStore.for_settings(settings)
        try:
            built = build_report(
                store,
                since=since.replace(tzinfo=timezone.utc) if since else None,
                embed=load_embed(settings) if embed else None,
            )
        finally:
            store.close()
        if output is ReportFormat.table:
            Console().print(report_to_table(built))
        elif output is ReportFormat.csv:
            typer.echo(report_to_csv(built), nl=False)
        else:
            typer.echo(json.dumps(report_to_json(built), indent=2, ensure_ascii=False))

    @app.command("purge")
    def purge(
        older_than: Annotated[
            int | None,
            typer.Option(
                "--older-than",
                min=0,
                metavar="DAYS",
                help="Delete questions older than this many days "
                "(default: GUIDEBOT_QUESTION_RETENTION_DAYS).",
            ),
        ] = None,
    ) -> None:
        """Forget old questions, their feedback (kept as counts) and old thread context."""
        settings = get_settings()
        days = settings.question_retention_days if older_than is None else older_than
        cutoff = utc_now() - timedelta(days=days)
        store = SqlStore.for_settings(settings)
        try:
            deleted = store.purge(cutoff)
        finally:
            store.close()
        typer.echo(f"Deleted {deleted} questions asked before {cutoff:%Y-%m-%d %H:%M} UTC ({days} days).")

    register_accounts(app, get_settings)


def register_accounts(app: typer.Typer, get_settings: Callable[[], Settings]) -> None:
    """`guidebot staff invite|list|revoke`: who may sign in to the web dashboard at `/staff`."""
    staff = typer.Typer(help="Who may sign in to the staff dashboard at /staff.", no_args_is_help=True)
    app.add_typer(staff, name="staff")

    def desk() -> tuple[SqlStore, StaffDesk]:
        settings = get_settings()
        store = SqlStore.for_settings(settings)
        return store, StaffDesk(store, settings)

    @staff.command("invite")
    def invite(email: Annotated[str, typer.Argument(help="The staff member's e-mail address.")]) -> None:
        """Print a one-time sign-in link for EMAIL (good once, for GUIDEBOT_STAFF_INVITE_HOURS)."""
        store, staff_desk = desk()
        try:
            made = staff_desk.invite(email)
        except InvalidEmail as error:
            raise typer.BadParameter(str(error), param_hint="EMAIL") from error
        finally:
            store.close()
        typer.echo(f"Sign-in link for {made.email}, good once within {made.hours:g} hours:")
        typer.echo(made.link)

    @staff.command("list")
    def list_() -> None:
        """Staff members: e-mail, when invited, last sign-in, and whether revoked."""
        store, staff_desk = desk()
        try:
            members = staff_desk.members()
        finally:
            store.close()
        if not members:
            typer.echo("No staff members yet: `guidebot staff invite EMAIL` makes one.")
        for member in members:
            last = member["last_sign_in_at"]
            state = f"revoked {member['revoked_at']:%Y-%m-%d}" if member["revoked_at"] else "active"
            signed = f"last signed in {last:%Y-%m-%d %H:%M} UTC" if last else "never signed in"
            typer.echo(f"{member['email']}\t{state}\tinvited {member['created_at']:%Y-%m-%d}\t{signed}")

    @staff.command("revoke")
    def revoke(email: Annotated[str, typer.Argument(help="The staff member's e-mail address.")]) -> None:
        """Revoke EMAIL: signed out everywhere now, and unused links stop working."""
        store, staff_desk = desk()
        try:
            revoked = staff_desk.revoke(email)
        except InvalidEmail as error:
            raise typer.BadParameter(str(error), param_hint="EMAIL") from error
        finally:
            store.close()
        if not revoked:
            typer.echo(f"{email.strip().lower()} is not an active staff member.", err=True)
            raise typer.Exit(1)
        typer.echo(f"Revoked {email.strip().lower()}: signed out, and their links no longer work.")
