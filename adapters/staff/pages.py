"""The staff dashboard's pages as HTML: pure functions, values in, text out.

Every page loads only `/staff-assets/staff.css` (no script, no inline style), so it keeps the
console's strict Content-Security-Policy. Charts are SVG drawn here, coloured by CSS classes (light
and dark from `prefers-color-scheme`), each followed by a table of the same numbers for screen
readers and for copying into a report; each SVG is an image named by its title.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.staff import PERIODS, Overview

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 720, 220, 44, 28, 12
SERIES_CLASSES = ("s1", "s2", "s3", "s4", "s5", "s6")


PAGES = (("Overview", "/staff"), ("Unanswered", "/staff/unanswered"), ("Hand-offs", "/staff/handoffs"), ("Guide", "/staff/guide"))
"""The dashboard's pages, in the order of its navigation bar."""


def _nav(title: str) -> str:
    current = ' aria-current="page"'
    links = "".join(f'<li><a href="{href}"{current if name == title else ""}>{name}</a></li>' for name, href in PAGES)
    return f'<nav class="pages" aria-label="Dashboard"><ul>{links}</ul></nav>'


def _page(title: str, body: str, *, who: str | None = None, csrf: str | None = None) -> str:
    """A whole page; signed in (`who` and `csrf` given), it has the navigation bar and a sign-out button."""
    signed = ""
    if who is not None and csrf is not None:
        signed = (
            f'<form class="sign-out" method="post" action="/staff/sign-out">'
            f'<span>Signed in as {escape(who)}</span>'
            f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
            f'<button type="submit">Sign out</button></form>'
        ) + _nav(title)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · guidebot staff</title>"
        '<link rel="icon" href="data:,"><link rel="stylesheet" href="/staff-assets/staff.css"></head><body>'
        '<a class="skip-link" href="#main">Skip to content</a>'
        f'<header><p class="brand">guidebot · program staff</p>{signed}</header>'
        f'<main id="main">{body}</main></body></html>\n'
    )


def sign_in_page(token: str | None, *, problem: str | None = None, sso: bool = False) -> str:
    """With an invite token: one button that spends it (a link preview's GET never does). Without: how to get one,
    and, with single sign-on set up (`sso`), its button."""
    parts = ["<h1>Sign in</h1>"]
    if problem:
        parts.append(f'<p class="problem" role="alert">{escape(problem)}</p>')
    if token:
        parts.append(
            '<form method="post" action="/staff/sign-in">'
            f'<input type="hidden" name="token" value="{escape(token)}">'
            '<button type="submit">Sign in to the staff dashboard</button></form>'
        )
    else:
        parts.append(
            "<p>Sign in with the one-time link a colleague made for you with "
            "<code>guidebot staff invite YOUR-EMAIL</code>. Each link works once, for a limited time.</p>"
        )
        if sso:
            parts.append(
                '<form method="post" action="/staff/sign-in/oidc">'
                '<button type="submit">Sign in with single sign-on</button></form>'
                "<p>Single sign-on uses your organisation's account; you come back here signed in.</p>"
            )
    return _page("Sign in", "".join(parts))


def not_found_page(who: str, csrf: str) -> str:
    return _page("Not found", '<h1>Not found</h1><p><a href="/staff">Back to the overview</a></p>', who=who, csrf=csrf)


def overview_page(overview: Overview, who: str, csrf: str) -> str:
    current = ' aria-current="page"'
    periods = "".join(
        f'<li><a href="/staff?days={days}"{current if days == overview.days else ""}>{days} days</a></li>' for days in PERIODS
    )
    totals = overview.to_json()["totals"]
    rate = f"{overview.answered / overview.asked:.0%}" if overview.asked else "–"
    body = (
        "<h1>Overview</h1>"
        f'<nav aria-label="Period"><ul class="periods">{periods}</ul></nav>'
        f'<p class="period">{escape(overview.first_day)} to {escape(overview.last_day)} (UTC). '
        f'<a href="/staff/api/overview?days={overview.days}">These numbers as JSON</a></p>'
        '<dl class="totals">'
        f"<div><dt>Questions</dt><dd>{overview.asked}</dd></div>"
        f"<div><dt>Answered</dt><dd>{overview.answered} ({rate})</dd></div>"
        f"<div><dt>Hand-offs opened</dt><dd>{totals['handoffs_opened']}</dd></div>"
        f"<div><dt>Hand-offs answered</dt><dd>{totals['handoffs_answered']}</dd></div></dl>"
        + _questions_section(overview)
        + _answer_rate_section(overview)
        + _votes_section(overview)
        + _handoffs_section(overview)
    )
    return _page("Overview", body, who=who, csrf=csrf)


# ---------------------------------------------------------------------------------------------
# Sections: a chart, then its numbers


def _section(heading: str, slug: str, chart: str, table: str) -> str:
    return f'<section aria-labelledby="{slug}"><h2 id="{slug}">{escape(heading)}</h2>{chart}{table}</section>'


def _table(caption: str, head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    th = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    body = "".join(
        "<tr>" + f'<th scope="row">{escape(str(row[0]))}</th>' + "".join(f"<td>{escape(str(c))}</td>" for c in row[1:]) + "</tr>"
        for row in rows
    )
    if not rows:
        body = f'<tr><td colspan="{len(head)}">Nothing in this period.</td></tr>'
    return (
        f'<details class="numbers"><summary>{escape(caption)} as a table</summary>'
        f'<div class="table-wrap"><table><caption>{escape(caption)}</caption><thead><tr>{th}</tr></thead>'
        f"<tbody>{body}</tbody></table></div></details>"
    )


def _questions_section(overview: Overview) -> str:
    platforms = overview.platforms
    days = [d.day for d in overview.questions]
    stacks = [[d.asked.get(p, 0) for p in platforms] for d in overview.questions]
    chart = stacked_bars("Questions per day by platform", days, stacks, platforms)
    rows = [[d.day, *(d.asked.get(p, 0) for p in platforms), d.total] for d in overview.questions]
    return _section(
        "Questions per day", "questions", chart, _table("Questions per day by platform", ["Day", *platforms, "Total"], rows)
    )


def _answer_rate_section(overview: Overview) -> str:
    points = [d.answer_rate for d in overview.questions]
    chart = rate_line("Share of questions answered, per day", [d.day for d in overview.questions], points)
    rows = [
        [d.day, d.total, d.answered, "–" if d.answer_rate is None else f"{d.answer_rate:.0%}"] for d in overview.questions
    ]
    return _section("Answer rate", "answer-rate", chart, _table("Answer rate per day", ["Day", "Asked", "Answered", "Rate"], rows))


def _votes_section(overview: Overview) -> str:
    votes = overview.votes
    chart = paired_bars(
        "Helpful and not helpful votes by guide section", [v.section for v in votes], [(v.up, v.down) for v in votes]
    )
    rows = [[v.section, v.up, v.down] for v in votes]
    return _section("Helpful and not helpful votes by guide section", "votes", chart, _table("Votes by guide section", ["Section", "👍 Helpful", "👎 Not helpful"], rows))


def _handoffs_section(overview: Overview) -> str:
    days = [h.day for h in overview.handoffs]
    chart = stacked_bars(
        "Hand-offs opened per day, and how many of them are answered",
        days,
        [[h.answered, h.opened - h.answered] for h in overview.handoffs],
        ("answered", "still open"),
    )
    rows = [[h.day, h.opened, h.answered] for h in overview.handoffs]
    return _section("Hand-offs to the program team", "handoffs", chart, _table("Hand-offs per day", ["Day", "Opened", "Answered"], rows))


# ---------------------------------------------------------------------------------------------
# Charts


def _svg(title: str, inner: str, height: int = HEIGHT, legend: Sequence[str] = ()) -> str:
    keys = "".join(
        f'<li><span class="key {SERIES_CLASSES[i % len(SERIES_CLASSES)]}"></span>{escape(name)}</li>' for i, name in enumerate(legend)
    )
    return (
        f'<figure class="chart"><svg viewBox="0 0 {WIDTH} {height}" role="img" focusable="false">'
        f"<title>{escape(title)}</title>{inner}</svg>"
        f'<figcaption>{escape(title)}{f"<ul class=legend>{keys}</ul>" if keys else ""}</figcaption></figure>'
    )


def _axis(top: float, label: str, height: int = HEIGHT) -> str:
    base = height - PAD_BOTTOM
    return (
        f'<line class="axis" x1="{PAD_LEFT}" y1="{base}" x2="{WIDTH}" y2="{base}"/>'
        f'<line class="grid" x1="{PAD_LEFT}" y1="{PAD_TOP}" x2="{WIDTH}" y2="{PAD_TOP}"/>'
        f'<text class="tick" x="{PAD_LEFT - 6}" y="{PAD_TOP + 4}" text-anchor="end">{escape(label)}</text>'
        f'<text class="tick" x="{PAD_LEFT - 6}" y="{base + 4}" text-anchor="end">0</text>'
    )


def _day_labels(days: Sequence[str]) -> str:
    if not days:
        return ""
    step = (WIDTH - PAD_LEFT) / len(days)
    picks = {0, len(days) - 1, len(days) // 2}
    last = len(days) - 1
    anchor = {0: "start", last: "end"} if last else {}
    x = {0: PAD_LEFT + 0.0, last: float(WIDTH)} if last else {}
    return "".join(
        f'<text class="tick" x="{x.get(i, PAD_LEFT + (i + 0.5) * step):.1f}" y="{HEIGHT - 8}" '
        f'text-anchor="{anchor.get(i, "middle")}">{escape(days[i][5:])}</text>'
        for i in sorted(picks)
    )


def stacked_bars(title: str, days: Sequence[str], stacks: Sequence[Sequence[int]], series: Sequence[str]) -> str:
    """One bar per day, stacked by series."""
    top = max((sum(s) for s in stacks), default=0) or 1
    plot = HEIGHT - PAD_BOTTOM - PAD_TOP
    step = (WIDTH - PAD_LEFT) / max(len(days), 1)
    bars = []
    for i, stack in enumerate(stacks):
        y: float = HEIGHT - PAD_BOTTOM
        for j, value in enumerate(stack):
            if value:
                h = plot * value / top
                y -= h
                bars.append(
                    f'<rect class="{SERIES_CLASSES[j % len(SERIES_CLASSES)]}" x="{PAD_LEFT + i * step + step * 0.1:.1f}" '
                    f'y="{y:.1f}" width="{max(step * 0.8, 0.5):.1f}" height="{h:.1f}"/>'
                )
    return _svg(title, _axis(top, str(top)) + "".join(bars) + _day_labels(days), legend=series)


def rate_line(title: str, days: Sequence[str], rates: Sequence[float | None]) -> str:
    """A line through the days that had questions (a day without any is a gap, not a zero)."""
    plot = HEIGHT - PAD_BOTTOM - PAD_TOP
    step = (WIDTH - PAD_LEFT) / max(len(days), 1)
    points = [
        f"{PAD_LEFT + (i + 0.5) * step:.1f},{HEIGHT - PAD_BOTTOM - plot * rate:.1f}" for i, rate in enumerate(rates) if rate is not None
    ]
    line = f'<polyline class="line" fill="none" points="{" ".join(points)}"/>' if len(points) > 1 else ""
    dots = "".join(f'<circle class="dot" cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="2.5"/>' for p in points)
    return _svg(title, _axis(1, "100%") + line + dots + _day_labels(days))


def paired_bars(title: str, labels: Sequence[str], pairs: Sequence[tuple[int, int]]) -> str:
    """Horizontal 👍 and 👎 bars per section, the busiest first (at most 12 drawn; the table has them all)."""
    shown = list(zip(labels, pairs, strict=True))[:12]
    row_h, label_w = 26, 260
    height = max(len(shown), 1) * row_h + PAD_TOP * 2
    top = max((max(p) for _, p in shown), default=0) or 1
    width = WIDTH - label_w - 40
    parts = []
    for i, (label, (up, down)) in enumerate(shown):
        y = PAD_TOP + i * row_h
        section = label.rsplit("›", 1)[-1].strip()  # the document's title, first in every label, tells nothing apart
        short = section if len(section) <= 40 else section[:39] + "…"
        parts.append(
            f'<text class="tick" x="{label_w - 8}" y="{y + 15}" text-anchor="end"><title>{escape(label)}</title>{escape(short)}</text>'
        )
        for k, (value, cls) in enumerate(((up, "s1"), (down, "s2"))):
            w = width * value / top
            parts.append(f'<rect class="{cls}" x="{label_w}" y="{y + 3 + k * 10}" width="{w:.1f}" height="9"/>')
            parts.append(f'<text class="tick" x="{label_w + w + 4:.1f}" y="{y + 11 + k * 10}">{value}</text>')
    if not shown:
        parts.append(f'<text class="tick" x="{PAD_LEFT}" y="{PAD_TOP + 14}">No votes in this period.</text>')
    return _svg(title, "".join(parts), height=height, legend=("👍 helpful", "👎 not helpful"))
