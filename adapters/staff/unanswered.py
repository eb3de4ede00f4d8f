"""The dashboard's Unanswered page: what members asked that the guide did not answer, grouped.

- `GET /staff/unanswered?days=7|30|90|365`: the groups (as `guidebot report` groups them, `StaffDesk.unanswered`),
  each with its wordings, its count, the nearest guide section, a link to write the answer there (the Guide
  page's editor, `/staff/guide?edit=<document>#<section>`) and an e-mail to hand it to a colleague.
- `GET /staff/api/unanswered?days=N`: the same as JSON.

The page is HTML drawn here (no script), inside the dashboard's frame (`pages._page`).
"""

from __future__ import annotations

import asyncio
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from aiohttp import web

from adapters.staff.pages import _page
from bot.links import doc_path
from bot.staff import PERIODS, Unanswered, period_days
from bot.staff.unanswered import UnansweredGroup, group_link, write_link

if TYPE_CHECKING:
    from adapters.staff import StaffPages

MAX_SUBJECT_CHARS = 120


def html_response(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, content_type="text/html", status=status, headers={"Cache-Control": "no-store"})


class UnansweredRoutes:
    """`/staff/unanswered` and its JSON, behind the dashboard's guard."""

    def __init__(self, pages: StaffPages) -> None:
        self.pages = pages

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/staff/unanswered", self.pages.guard(self.page))
        app.router.add_get("/staff/api/unanswered", self.pages.guard(self.json))

    async def _built(self, request: web.Request) -> Unanswered:
        guidebot = self.pages.guidebot
        return await asyncio.to_thread(guidebot.staff.unanswered, period_days(request.query.get("days")), guidebot.engines.engine)

    async def page(self, request: web.Request) -> web.StreamResponse:
        member = self.pages.member(request)
        built = await self._built(request)
        return html_response(unanswered_page(built, member.email, member.csrf, self.pages.desk.base_url()))

    async def json(self, request: web.Request) -> web.StreamResponse:
        return web.json_response((await self._built(request)).to_json(), headers={"Cache-Control": "no-store"})


def unanswered_page(built: Unanswered, who: str, csrf: str, base_url: str) -> str:
    current = ' aria-current="page"'
    periods = "".join(
        f'<li><a href="/staff/unanswered?days={days}"{current if days == built.days else ""}>{days} days</a></li>' for days in PERIODS
    )
    summary = (
        f"{built.unanswered} unanswered questions from {escape(built.first_day)} to {escape(built.last_day)} (UTC), "
        f"{built.wordings} different wordings"
    )
    if built.capped:
        summary += f"; the {built.grouped} most asked wordings are grouped, the rest are only counted"
    more = f'<p class="period">{built.groups_not_shown} smaller groups are not shown.</p>' if built.groups_not_shown else ""
    groups = "".join(_group(group, built.days, base_url) for group in built.groups)
    if not built.groups:
        groups = '<p class="period">No unanswered questions in this period.</p>'
    body = (
        "<h1>Unanswered questions</h1>"
        f'<nav aria-label="Period"><ul class="periods">{periods}</ul></nav>'
        f'<p class="period">{summary}. Grouped by {"meaning" if built.grouping == "embeddings" else "similar words"}, '
        f'as <code>guidebot report</code> groups them. <a href="/staff/api/unanswered?days={built.days}">These groups as JSON</a></p>'
        f"{groups}{more}"
    )
    return _page("Unanswered", body, who=who, csrf=csrf)


def _group(group: UnansweredGroup, days: int, base_url: str) -> str:
    anchor = f"group-{group.id}"
    wordings = "".join(f"<li>{escape(text)}</li>" for text in group.wordings)
    times = "once" if group.count == 1 else f"{group.count} times"
    links = [
        f'<a href="{escape(_mailto(group, days, base_url))}">Hand it to a colleague by e-mail</a>',
        f'<a href="{escape(group_link(days, group.id))}">Link to this group</a>',
    ]
    if group.section is None:
        where = '<p class="period">No guide section to name: the index is not loaded.</p>'
    else:
        where = f'<p>Nearest guide section: <a href="{escape(doc_path(group.section))}">{escape(group.section.label)}</a></p>'
        links.insert(0, f'<a class="button" href="{escape(write_link(group.section))}">Write the answer into the guide</a>')
    where += f'<p class="actions">{"".join(links)}</p>'
    return (
        f'<section id="{anchor}" aria-labelledby="{anchor}-title">'
        f'<h2 id="{anchor}-title">{escape(group.representative)}</h2>'
        f'<p class="count">Asked {times} in the last {days} days</p>'
        f'<h3>Wordings</h3><ul class="wordings">{wordings}</ul>{where}</section>'
    )


def _mailto(group: UnansweredGroup, days: int, base_url: str) -> str:
    """An e-mail to a colleague: the wordings and where to see and answer them, for them to pick up."""
    subject = f"Unanswered in the guide: {group.representative}"
    if len(subject) > MAX_SUBJECT_CHARS:
        subject = subject[: MAX_SUBJECT_CHARS - 1] + "…"
    lines = [f"Members asked this {group.count} times in the last {days} days, and the guide does not answer it:", ""]
    lines += [f"- {text}" for text in group.wordings]
    lines += ["", f"The group on the staff dashboard: {base_url}{group_link(days, group.id)}"]
    if group.section is not None:
        lines.append(f"The nearest guide section, to write the answer into: {group.section.label}, {base_url}{write_link(group.section)}")
    return "mailto:?" + urlencode({"subject": subject, "body": "\n".join(lines)}, quote_via=quote)
