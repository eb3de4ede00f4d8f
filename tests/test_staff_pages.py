"""The dashboard's pages as values: charts and tables of the same numbers, nothing a strict CSP blocks,
and colours that meet WCAG AA contrast in light and dark mode."""

from __future__ import annotations

import re

import pytest

from adapters.staff import STATIC
from adapters.staff.pages import overview_page, sign_in_page
from bot.staff.overview import DayCount, HandoffDay, Overview, SectionVotes

CSS = (STATIC / "staff.css").read_text()


def palette(dark: bool) -> dict[str, str]:
    light_block = CSS.split("@media (prefers-color-scheme: dark)")[0]
    colours = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", light_block))
    if dark:
        dark_block = CSS.split("@media (prefers-color-scheme: dark)")[1].split("\n}\n")[0]
        colours.update(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", dark_block))
    return colours


def luminance(colour: str) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_text_and_chart_colours_meet_aa_contrast(dark: bool) -> None:
    c = palette(dark)
    for background in ("bg", "surface"):
        for text in ("text", "muted", "accent"):
            assert contrast(c[text], c[background]) >= 4.5, (text, background)
        for series in ("s1", "s2", "s3", "s4", "s5", "s6"):
            assert contrast(c[series], c[background]) >= 3.0, (series, background)
    assert contrast(c["accent-text"], c["accent"]) >= 4.5
    assert contrast(c["text"], c["problem-bg"]) >= 4.5


def overview() -> Overview:
    return Overview(
        days=7,
        first_day="2026-03-04",
        last_day="2026-03-10",
        platforms=("slack", "teams"),
        questions=tuple(DayCount(f"2026-03-{d:02d}", {"slack": d % 3, "teams": 1}, 1) for d in range(4, 11)),
        votes=(SectionVotes("Roles › <VPMA> & \"CMO\"", 3, 1), SectionVotes("(no section)", 0, 2)),
        handoffs=tuple(HandoffDay(f"2026-03-{d:02d}", 1, d % 2) for d in range(4, 11)),
    )


def test_the_overview_has_each_chart_with_its_table_and_escapes_section_names() -> None:
    page = overview_page(overview(), "ann@example.org", "c" * 64)
    assert page.count("<svg") == 4 and page.count("<table") == 4 and page.count("<title>") == 5 + 2, "the page's, each chart's, and each vote bar's label"
    assert "Roles › &lt;VPMA&gt; &amp; &quot;CMO&quot;" in page and "<VPMA>" not in page
    assert '<title>Roles › &lt;VPMA&gt; &amp; &quot;CMO&quot;</title>&lt;VPMA&gt; &amp; &quot;CMO&quot;</text>' in page, (
        "the chart labels a bar by its section, the whole path on hover"
    )
    assert 'text-anchor="end">03-10</text>' in page, "the last day's label ends at the chart's edge, not past it"
    assert '<a href="/staff?days=7" aria-current="page">7 days</a>' in page
    assert "<script" not in page and "style=" not in page and "<style" not in page
    assert '<th scope="row">2026-03-10</th><td>1</td><td>1</td><td>2</td>' in page, "day, slack, teams, total"
    assert '<th scope="row">Roles › &lt;VPMA&gt; &amp; &quot;CMO&quot;</th><td>3</td><td>1</td>' in page
    assert '<input type="hidden" name="csrf" value="' + "c" * 64 + '">' in page


def test_an_empty_period_draws_empty_charts() -> None:
    empty = Overview(7, "2026-03-04", "2026-03-10", (), tuple(DayCount(f"2026-03-{d:02d}", {}, 0) for d in range(4, 11)), (),
                     tuple(HandoffDay(f"2026-03-{d:02d}", 0, 0) for d in range(4, 11)))
    page = overview_page(empty, "ann@example.org", "c" * 64)
    assert "No votes in this period." in page and "<dd>0 (–)</dd>" in page


def test_the_sign_in_page_spends_the_link_only_from_its_button() -> None:
    page = sign_in_page("tok_en-123")
    assert '<form method="post" action="/staff/sign-in">' in page and 'name="token" value="tok_en-123"' in page
    assert "guidebot staff invite" in sign_in_page(None) and "<form" not in sign_in_page(None)
