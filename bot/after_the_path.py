"""Questions about a CMO's career after the CMO job ("What's the next step after becoming a CMO?").

The guide's path ends where the job is landed: its last stage is "to secure a CMO placement". A question about what
comes after reads, to the embedding, like one about the path's steps, so "What is the typical next career step after
serving as a Chief Medical Officer?" was answered (0.84) with that last stage, and "is there a job above cmo at a
hospital" (0.86) and a sitting CMO's "What is the realistic next step for someone in my position?" (0.98) with the
CMO's duties. Such a question is refused while no sentence of the documents speaks of a career past the CMO job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.query import question_sentences

_TOP = r"(?:cmos?|chief\s+medical\s+officers?)"
_SETTING = r"(?:(?:hospital|health[\s-]system|system|payer|insurer|pharma|biotech|community|regional)\s+)?"
_PAST_THE_END = re.compile(
    r"(?<!going\s)(?<!\bgo\s)(?<!went\s)(?<!goes\s)\b(?:after|beyond|above|past)\s+"
    r"(?:(?:serving|being|becoming|reaching|having\s+been|you'?ve\s+been|i'?ve\s+been)\s+(?:as\s+)?)?"
    rf"(?:a\s+|the\s+|your\s+|their\s+|my\s+)?{_SETTING}{_TOP}\b"
    rf"|\bis\s+(?:the\s+)?{_TOP}\s+(?:role\s+|job\s+|position\s+)?(?:a\s+|kind\s+of\s+a\s+|basically\s+a\s+)?dead[\s-]+end\b",
    re.IGNORECASE,
)
"""After, beyond or above the CMO job ("board seats after cmo", "is there a job above cmo"); "going after a CMO job"
is the path itself."""
_HOLDS_THE_JOB = re.compile(
    r"\b(?:i'?ve\s+been|i\s+have\s+been|i\s+was|i'?m\s+(?:now|currently|already)|im\s+(?:now|currently|already)|since\s+i\s+became"
    r"|i\s+became|made\s+me|named\s+me|(?:has|have|who'?s|i'?ve)\s+already\s+reached|once\s+(?:i'?m|im|i\s+am|you'?re|youre|you\s+are)"
    r"|(?:done|finished|served|retired|stepped\s+down)\s+as)\s+"
    rf"(?:a\s+|the\s+|as\s+)?{_SETTING}{_TOP}\b"
    rf"|\b(?:i'?m|im|i\s+am)\s+(?:a\s+|the\s+)?{_SETTING}{_TOP}(?:\s+(?:now|already|currently)\b|\s*[,;:!-])",
    re.IGNORECASE,
)
"""A member who holds the job, or is asking from the time they will."""
_ONWARD = re.compile(
    r"\b(?:next\s+(?:step|move|role|job|level|rung)|what'?s\s+next|comes?\s+next|what\s+next|after\s+that|from\s+here|ceiling"
    r"|dead[\s-]+end|above|beyond|route\s+up"
    r"|move\s+up|moving\s+up|ceo|chief\s+executive|system[\s-]+level|board\s+seats?|boards|plateau\w*|sideways|exit"
    r"|where\s+(?:do|does|did)\s+\w+\s+(?:go|land|end\s+up)|what\s+do\s+(?:people|others|folks|cmos)\s+(?:do|go)|move\s+on|moving\s+on)\b",
    re.IGNORECASE,
)
"""Where a career goes next; asked by someone who holds the job, it asks past the path's end. Asked by anyone else
("what's the next step after medical director?") it is the path."""
_MAY_ASK = re.compile(
    r"\b(?:after|beyond|above|past|dead|been|was|i'?m|im|am|became|made|named|reached|once|done|finished|served|retired|stepped)\b",
    re.IGNORECASE,
)
"""A word every pattern above needs: most questions have none (`bot.reporting_lines` says why it matters)."""


def asks_past_the_path(message: str) -> bool:
    """Whether a question sentence asks what comes after, beyond or above the CMO job, or a member who holds it asks
    where a career goes next."""
    if not _MAY_ASK.search(message):
        return False
    questions = question_sentences(message)
    if any(_PAST_THE_END.search(s) for s in questions):
        return True
    return _HOLDS_THE_JOB.search(message) is not None and any(_ONWARD.search(s) for s in questions)


def states_past_the_path(sentences: Iterable[str]) -> bool:
    """Whether any sentence of the documents speaks of a career after, beyond or above the CMO job."""
    return any(_PAST_THE_END.search(s) for s in sentences)
