"""Turning what a member typed into text fit for retrieval."""

from __future__ import annotations

import re
import unicodedata

_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]{0,200}>")
_WS = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")


def clean_question(text: str, max_chars: int) -> str:
    """Strip HTML tags and control characters; keep at most `max_chars`.

    Only what no platform means as words is removed here. Each platform's own markup
    (Slack's `<@U…>`, `<!channel>`, `<url|label>`; Teams' `<at>`) is read by its adapter,
    which alone knows what it means, before the text reaches the core. A long paste is
    cut at a word boundary.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _HTML_TAG.sub(" ", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = _WS.sub(" ", text).strip()
    if len(text) > max_chars:
        cut = text[:max_chars]
        text = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return text


def focus_of(text: str, min_words: int = 25) -> str | None:
    """The asking part of a long, chatty message: its last question sentence.

    Members write context first and ask last ("I'm a hospitalist eight years
    out … which degree do people usually pick?"); the context alone would pull
    retrieval toward whatever the member mentioned in passing.
    """
    if len(text.split()) < min_words:
        return None
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    if len(sentences) < 2:
        return None
    questions = [s for s in sentences if s.rstrip().endswith("?")]
    focus = questions[-1] if questions else sentences[-1]
    return focus if len(focus.split()) >= 3 else None
