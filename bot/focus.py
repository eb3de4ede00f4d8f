"""A focus the guide never states, as `bot.engine.UNSTATED_FOCUSES` reads it: a detector for messages that ask it and
one for documents that state it. Most are one pattern each way; the ones that read who asks or what is set against
what (pay, specialties, other professions …) write their own."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from bot.query import question_sentences

Asks = Callable[[str], bool]
States = Callable[[Iterable[str]], bool]


def focus(asked: re.Pattern[str], stated: re.Pattern[str] | None = None) -> tuple[Asks, States]:
    """Whether a question sentence of a message (`question_sentences`) matches `asked`, and whether any sentence of the
    documents matches `stated` (`asked` where the two are the same words)."""
    statement = stated or asked

    def asks(message: str) -> bool:
        return any(asked.search(s) for s in question_sentences(message))

    def states(sentences: Iterable[str]) -> bool:
        return any(statement.search(s) for s in sentences)

    return asks, states
