"""The Hand-offs page as HTML: the queue of one state, each hand-off with its replies and two forms.

A pure function of the hand-offs (values in, text out), drawn inside the dashboard's frame
(`pages._page`), with no script: "Reply" and "Add to the guide" are plain forms carrying the session's
CSRF token. Everything a member or a staff member wrote is escaped.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from adapters.staff.pages import _page
from bot.handoff import Handoff, StaffReply, platform_name

STATES = (("open", "Open"), ("answered", "Answered"), ("published", "Added to the guide"))
"""The queue's filters, in the order of its tabs."""

NOTICES = {
    "replied": "Your reply is on its way to the member, in their own conversation, as “From the program team:”.",
    "published": "Added to the guide’s “Answers from the program team”. Members get it after the next guidebot index.",
}
PROBLEMS = {
    "empty": "Write a reply before sending it.",
    "no_reply": "There is no reply to add to the guide yet: reply first.",
    "no_title": "A published answer needs a title: write the question as members would ask it.",
}


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC" if at else "–"


def _time(at: datetime | None) -> str:
    return f'<time datetime="{at.isoformat()}">{_when(at)}</time>' if at else "–"


def handoff_json(handoff: Handoff) -> dict[str, Any]:
    """A hand-off as the queue's JSON shows it: the question as stored (redacted), never where the member is."""
    return {
        "id": handoff.id,
        "state": handoff.state,
        "question": handoff.question,
        "member_name": handoff.member_name,
        "platform": handoff.member_platform,
        "bot_said": handoff.bot_said,
        "asked_at": handoff.created_at.isoformat() if handoff.created_at else None,
        "replies": [{"who": r.who, "at": r.at.isoformat(), "text": r.text} for r in handoff.replies],
        "published_title": handoff.published_title,
        "published_at": handoff.published_at.isoformat() if handoff.published_at else None,
        "link": f"/staff/handoffs?state={handoff.state}#handoff-{handoff.id}",
    }


def handoffs_page(
    state: str,
    queue: Sequence[Handoff],
    counts: Mapping[str, int],
    who: str,
    csrf: str,
    *,
    enabled: bool,
    notice: str | None = None,
    problem: str | None = None,
) -> str:
    current = ' aria-current="page"'
    tabs = "".join(
        f'<li><a href="/staff/handoffs?state={key}"{current if key == state else ""}>{name} ({counts.get(key, 0)})</a></li>'
        for key, name in STATES
    )
    parts = [
        "<h1>Hand-offs to the program team</h1>",
        f'<nav aria-label="Hand-offs by state"><ul class="periods">{tabs}</ul></nav>',
        f'<p class="period"><a href="/staff/api/handoffs?state={state}">These hand-offs as JSON</a></p>',
    ]
    if not enabled:
        parts.append('<p class="period">Members are not offered the program team here: <code>GUIDEBOT_STAFF_CHANNEL</code> is not set.</p>')
    if notice in NOTICES:
        parts.append(f'<p class="notice" role="status">{escape(NOTICES[notice])}</p>')
    if problem in PROBLEMS:
        parts.append(f'<p class="problem" role="alert">{escape(PROBLEMS[problem])}</p>')
    parts += [_handoff(handoff, csrf) for handoff in queue]
    if not queue:
        parts.append(f'<p class="period">No hand-offs {dict(STATES)[state].lower()}.</p>')
    return _page("Hand-offs", "".join(parts), who=who, csrf=csrf)


def _reply(reply: StaffReply) -> str:
    return f"<li><p class=\"said-by\">{escape(reply.who)}, {_time(reply.at)}</p><p class=\"said\">{escape(reply.text)}</p></li>"


def _handoff(handoff: Handoff, csrf: str) -> str:
    anchor = f"handoff-{handoff.id}"
    name = escape(handoff.member_name)
    replies = f'<ol class="replies">{"".join(_reply(r) for r in handoff.replies)}</ol>' if handoff.replies else "<p>No reply yet.</p>"
    published = ""
    if handoff.state == "published":
        published = f"<div><dt>In the guide</dt><dd>as “{escape(handoff.published_title or '')}”, {_time(handoff.published_at)}</dd></div>"
    token = f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
    reply_form = (
        f'<form method="post" action="/staff/handoffs/{escape(handoff.id)}/reply">{token}'
        f'<input type="hidden" name="key" value="{secrets.token_urlsafe(12)}">'
        f'<label for="{anchor}-text">Reply to {name}</label>'
        f'<textarea id="{anchor}-text" name="text" rows="4" required></textarea>'
        f'<p class="hint">Sent to {name} in their own conversation as “From the program team:”, with your e-mail address as who replied.</p>'
        f"<button type=\"submit\">{'Send a follow-up' if handoff.replies else 'Send the reply'}</button></form>"
    )
    publish_form = ""
    if handoff.replies:
        title = handoff.published_title or handoff.question
        publish_form = (
            f'<form method="post" action="/staff/handoffs/{escape(handoff.id)}/publish">{token}'
            f'<label for="{anchor}-title">Title in the guide (the question, as members would ask it)</label>'
            f'<input id="{anchor}-title" name="title" type="text" maxlength="200" value="{escape(title)}">'
            f"<button type=\"submit\">{'Update it in the guide' if handoff.state == 'published' else 'Add to the guide'}</button></form>"
        )
    return (
        f'<section id="{anchor}" aria-labelledby="{anchor}-q">'
        f'<h2 id="{anchor}-q">{escape(handoff.question)}</h2>'
        '<dl class="facts">'
        f"<div><dt>From</dt><dd>{name}, on {escape(platform_name(handoff.member_platform))}</dd></div>"
        f"<div><dt>Asked</dt><dd>{_time(handoff.created_at)}</dd></div>"
        f"<div><dt>guidebot</dt><dd>{escape(handoff.bot_said)}</dd></div>{published}</dl>"
        f"<h3>Replies</h3>{replies}{reply_form}{publish_form}</section>"
    )
