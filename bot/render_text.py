"""Terminal rendering of replies (rich), for `guidebot ask` and `guidebot command`."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from bot.answer import Answer, Reply, Summary


def _quote(text: str, best: str) -> Text:
    out = Text()
    start = text.find(best) if best else -1
    if start < 0:
        out.append(text)
        return out
    out.append(text[:start])
    out.append(best, style="bold")
    out.append(text[start + len(best) :])
    return out


def render_lead(answer: Answer, numbers: dict[tuple[str, str], int]) -> Text:
    """The lead: the guide's sentences that answer, each followed by its passage's number."""
    out = Text()
    for sentence in answer.lead:
        if not 0 <= sentence.passage < len(answer.passages):
            continue
        source = answer.passages[sentence.passage].source
        if out.plain:
            out.append(" ")
        out.append(sentence.text, style="bold")
        out.append(f" [{numbers[(source.document_id, source.section)]}]", style="cyan")
    return out


def render_answer(answer: Answer) -> RenderableType:
    """The lead first, then the passages it comes from (best sentence in bold), then the sources."""
    if answer.abstained:
        lines = [Text(answer.message)]
        if answer.suggestions:
            lines.append(Text("Nearest sections of the guide:", style="dim"))
            lines.extend(Text(f"  • {s}") for s in answer.suggestions)
        return Panel(Group(*lines), title="guidebot", border_style="yellow")
    numbers = {(s.document_id, s.section): n for n, s in enumerate(answer.sources, start=1)}
    parts: list[RenderableType] = []
    lead = render_lead(answer, numbers)
    if lead.plain:
        parts += [lead, Text("")]
    for passage in answer.passages:
        n = numbers[(passage.source.document_id, passage.source.section)]
        parts.append(Panel(_quote(passage.text, passage.best_sentence), title=f"[{n}]", title_align="left", border_style="cyan"))
    source_lines = [
        Text(f"[{n}] {s.label}" + (f"  {s.url}" if s.url else "")) for n, s in enumerate(answer.sources, start=1)
    ]
    return Group(*parts, Text("Sources", style="bold"), *source_lines)


def render_summary(summary: Summary) -> RenderableType:
    lines: list[RenderableType] = []
    if summary.intro:
        lines.append(Text(summary.intro))
    for point in summary.points:
        head = f"[bold]{escape(point.label)}[/bold]: " if point.label else "• "
        lines.append(Text.from_markup(head + escape(point.text)))
        lines.append(Text(f"    — {point.source.label}", style="dim"))
    if summary.suggestions:
        lines.append(Text("Try: " + ", ".join(summary.suggestions), style="dim"))
    return Panel(Group(*lines), title=summary.title, border_style="green")


def render_reply(reply: Reply) -> RenderableType:
    return render_answer(reply) if isinstance(reply, Answer) else render_summary(reply)
