"""Pure text helpers: what members and documents write never becomes Teams markup.

Teams renders a message's text as markdown over HTML, and turns `<at>…</at>` into
a mention. Three contexts, three treatments:

- message text (markdown): `escape_markdown` writes every character that could
  start markup (`< > & * _ ~ ` [ ] # | \\` and list / heading openers) as an HTML
  character reference, which Teams shows as the character itself;
- plain-text fields (Adaptive Card `TextRun`s, citation names and abstracts),
  which Teams shows as they are: `plain` only breaks mention tags;
- limits: `clip` shortens at a word boundary with an ellipsis, never mid-word
  when a boundary exists.

Teams joins lines that a single newline separates into one line (as markdown
does), and shows a markdown list only on the desktop client: text meant to read
line by line goes through `lines`, which makes each line its own paragraph.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

ELLIPSIS = "…"

# `<at>`, `< AT id="0">`, `</at>`: any tag whose name is "at", as Teams reads it.
_MENTION_TAG = re.compile(r"<(\s*/?\s*at\b)", re.IGNORECASE)
_FULLWIDTH_LT = "\uff1c"
_MARKDOWN_REFS = str.maketrans({c: f"&#{ord(c)};" for c in "<>&*_~`[]#|\\"})
_LINE_OPENER = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))", re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """Drop control characters (they break JSON consumers and card renderers)."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text or ""))


def plain(text: str) -> str:
    """Text for a field Teams shows verbatim: mention tags are defused, nothing else changes."""
    return _MENTION_TAG.sub(lambda m: _FULLWIDTH_LT + m.group(1), clean(text))


def one_line(text: str) -> str:
    return _SPACES.sub(" ", clean(text)).strip()


def lines(items: Iterable[str]) -> str:
    """Lines Teams shows one under another on every client: each its own paragraph (blank lines between)."""
    return "\n\n".join(one_line(item) for item in items if one_line(item))


def escape_markdown(text: str) -> str:
    """Text for a markdown message: every markup character as a character reference."""
    out = clean(text).translate(_MARKDOWN_REFS)
    # "- item", "+ item", "1. item", "== heading" only mean something at a line's start.
    return _LINE_OPENER.sub(lambda m: m.group(1) + "".join(f"&#{ord(c)};" for c in m.group(2)), out)


def clip(text: str, limit: int) -> str:
    """At most `limit` characters; cut at a word boundary and marked with an ellipsis."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if limit == 1:
        return ELLIPSIS
    head = text[: limit - 1]
    cut = head.rstrip()
    boundary = max(cut.rfind(" "), cut.rfind("\n"))
    if boundary >= limit // 2:
        cut = cut[:boundary].rstrip()
    cut = cut.rstrip(" ,;:-–—")
    return (cut or head) + ELLIPSIS
