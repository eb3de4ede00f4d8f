"""Survey questions about the reader's own organization ("Does your organization have a VPMA and/or a CMO?", "In what
way does your practice greet a newly arrived physician?"), which no guide can answer: only the reader knows their
hospital.

Public pages put them to their readers (a survey of CMOs and VPMAs, an interview guide), and they carry the guide's
words, so the model read them as covered (0.44 and 0.70 on banks that had not seen them). Members ask the bot with
"our" and "my" ("Our hospital is hiring a CMO: what will they oversee?"), not "your", and a page's generic "your"
names the organization as a setting or a beneficiary ("Why join your hospital's QI committee?", "How can a CQO help
your organization?"), which stands or falls on the rest. So only a question sentence whose subject is the reader's
organization ("does your practice …", "will you or your organization's physicians …") is refused, while no sentence
of the documents speaks to its reader's organization. Its roles are left to the rest ("What does your hospital's CMO
do?", "What does your CMO do all day?" are a page's generic "your").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.query import question_sentences

_THEIR_ORGANIZATION = re.compile(
    r"\b(?:does|do|is|are|has|have|did|will|would|should|can|could)\s+(?:you\s+or\s+)?your\s+(?:own\s+)?"
    r"(?:organi[sz]ations?|hospitals?|health\s+systems?|practices?|institutions?|facility|facilities|medical\s+group|company)"
    r"\b(?!'s\s+(?:cmo|vpma|cqo|chief|medical\s+directors?|vice|quality|physician\s+executives?)\b)",
    re.IGNORECASE,
)


def asks_their_organization(message: str) -> bool:
    """Whether a question sentence asks about the reader's own organization."""
    return any(_THEIR_ORGANIZATION.search(s) for s in question_sentences(message))


def states_their_organization(sentences: Iterable[str]) -> bool:
    """Whether any sentence of the documents speaks to its reader's organization."""
    return any(_THEIR_ORGANIZATION.search(s) for s in sentences)
