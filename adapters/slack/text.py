"""Slack's text conventions, both ways: members' messages in, escaped text out.

Slack sends message text with `&`, `<` and `>` escaped and with mentions and
links as control sequences (`<@U123>`, `<#C1|general>`, `<https://…|label>`,
`<!channel>`). The core wants the words a member typed; Slack wants every `&`,
`<` and `>` we did not mean as a control sequence escaped, so that text typed
by a member or found in a document can never ping anyone.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"<([^<>]*)>")
_SPACES = re.compile(r"[ \t\u00a0]+")
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape(text: str) -> str:
    """Text for a `mrkdwn` or `plain_text` field or a message's `text`: shown, never parsed."""
    return _UNPRINTABLE.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mentions_user(text: str, user_id: str | None) -> bool:
    """Does the raw Slack text mention this user (`<@U123>` or `<@U123|name>`)?"""
    if not user_id:
        return False
    return f"<@{user_id}>" in text or f"<@{user_id}|" in text


def _plain(match: re.Match[str], bot_user_id: str | None) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        if bot_user_id and target[1:] == bot_user_id:
            return ""
        return f"@{label}" if label else ""
    if target.startswith("#"):
        return f"#{label}" if label else ""
    if target.startswith("!"):
        # <!channel>, <!here>, <!subteam^S1|@team>, <!date^…|fallback>: keep only a readable label.
        return label.lstrip("@") if label and not target.startswith(("!channel", "!here", "!everyone")) else ""
    return label or target


def question_text(raw: str, bot_user_id: str | None = None) -> str:
    """What a member asked, as plain words: the bot's own mention removed, links as their labels."""
    text = _CONTROL.sub(lambda m: _plain(m, bot_user_id), raw or "")
    text = unescape(text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()
