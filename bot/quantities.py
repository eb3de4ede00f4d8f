"""Questions that ask for a number the guide never gives: a share of people ("What % of CMOs have an MBA?"), a size
("How big is the operating budget a medical director usually manages?") or a time other than the years of clinical
practice ("realistically how many years from first med dir job to CMO?", "How long does the CPE take?").

The guide's one figure is "a decade or more of substantial clinical practice", and the model reads a number asked
about the guide's own nouns as the guide's: those three were answered (0.78, 0.98, 0.73) with the sentences that name
the MBA, the medical director's budget and the medical director's role. A question sentence that asks one of these is
refused while no sentence of the documents states such a figure. A time asked about clinical practice, or about
reaching the CMO job at all ("How long does it take to become a CMO?"), is the guide's decade and is left to the
model; so are "how big a jump" and "how big is the scope", which ask how far, not how many.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.query import question_sentences

_SHARE = re.compile(
    r"\b(?:what|which)\s+(?:%|percent(?:age)?\b|share\b|proportion\b|fraction\b)|%\s*of\b|\bpercent(?:age)?\s+of\b"
    r"|\bhow\s+many\s+(?:%|percent\b)",
    re.IGNORECASE,
)
"""A share of people or of money asked for."""
_SIZE = re.compile(
    r"\bhow\s+(?:big|large|small)\s+(?:is|are|was|would\s+be|of)?\s*(?:(?:the|a|an|their|his|her|my|your|typical|usual"
    r"|average)\s+)*(?:[\w'-]+\s+){0,3}?(?:budgets?|teams?|staffs?|departments?|offices?)\b"
    r"|\b(?:size|dollar\s+(?:amount|value|figure))\s+of\s+(?:(?:the|a|an|their|his|her|my|your|typical|usual|average)\s+)*"
    r"(?:[\w'-]+\s+){0,3}?budgets?\b|\bbudget\s+(?:size|range)\b"
    r"|\bwhat\s+(?:size|sized|kind\s+of\s+size)\s+(?:of\s+)?(?:[\w'-]+\s+){0,2}?(?:budgets?|teams?|staffs?|departments?)\b"
    r"|\bhow\s+many\s+(?:direct\s+reports|reports|people|staff|employees|ftes?|beds|hours|days|nights|weekends|meetings"
    r"|cmos|vpmas|cqos|candidates|interviews|applicants)\b"
    r"|\b(?:usmle|step\s*[123]|comlex|gmat|gre|mcat|board\s+exam|in-?training\s+exam)\s+scores?\b",
    re.IGNORECASE,
)
"""A size or a count asked for ("how big is the budget", "what size budget", "how many direct reports"), or a test score
("what USMLE score"); "how big is the jump" is not, nor the HCAHPS scores the guide names."""
_TIME = re.compile(
    r"\bhow\s+long\b|\bhow\s+many\s+(?:more\s+)?(?:years?|yrs?|months?|weeks?)\b|\b(?:at\s+)?what\s+age\b|\bhow\s+old\b"
    r"|\baverage\s+age\b",
    re.IGNORECASE,
)
_PRACTICE = re.compile(
    r"\bpracti[cs]\w*|\bclinical(?:ly)?\b|\bclinic\b|\bseeing\s+patients\b|\bbedside\b|\bpatient\s+care\b|\bresidency\b"
    r"|\bfellowship\b|\bmedicine\b|\battendings?\b",
    re.IGNORECASE,
)
"""Time in clinical practice, the one time the guide states (and training before it, which the model refuses)."""
_TIMED = re.compile(
    r"\b(?:degrees?|programs?|courses?|coursework|classes|exams?|mba|mha|mmm|cpe|credential|certification|cert"
    r"|searche?s?|recruit\w*|hiring|hired|offers?|interviews?|contracts?|interims?|assignments?|stints?|gigs?|engagements?)\b"
    r"|\bfrom\s+(?:(?:my|your|the|a|an|first|1st)\s+)*(?:[\w-]+\s+){0,2}(?:job|role|position|director|dir|vpma|cqo|chief)\b"
    r"|\bas\s+(?:an?\s+|the\s+)?(?:[\w-]+\s+){0,2}?[\w-]*?(?:director|dir|vpma|cqo|cmo|chief|head|vp|lead|leader|manager"
    r"|chair|officer)s?\b"
    r"|\b(?:stay|stays|staying|spend|spends|spending|last|lasts|remain|remains|serve|serves|serving)\b"
    r"|\bage\b|\bold\b",
    re.IGNORECASE,
)
"""What the guide gives no time for: a degree, credential or course, a search or hiring, a contract or interim
assignment, a time in one role ("how many years as medical director before VPMA?") or between two, an age. The guide's
own times ("a decade or more" of practice, "multi-year" plans, "long-term" relationships) are left to the model."""
_STATED = re.compile(
    r"%|\bpercent\b|\$\s?\d|\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|a\s+few|several)[\s-]+"
    r"(?:years?|months?|weeks?|days?|hours?|beds|staff|employees|physicians|direct\s+reports)\b",
    re.IGNORECASE,
)
"""A figure of the kinds asked about: a share, a sum of money, a time, a size; a year or a version number is none."""


_YEARS_IN_A_ROLE = re.compile(r"\W*(?:yrs?|years?)\s+(?:as|in)\s+(?!practice\b)\S", re.IGNORECASE)
"""A terse message that opens on a time in a role ("yrs as vpma b4 cmo", "years in a med dir role before VPMA?") asks
how long one stays in it, which the guide never says."""


def _asks_time(sentence: str) -> bool:
    if _PRACTICE.search(sentence):
        return False
    return bool(_TIME.search(sentence) and _TIMED.search(sentence)) or _YEARS_IN_A_ROLE.match(sentence) is not None


def asks_quantity(message: str) -> bool:
    """Whether a question sentence asks for a share, a size or a count, or a time other than clinical practice's."""
    return any(_SHARE.search(s) or _SIZE.search(s) or _asks_time(s) for s in question_sentences(message))


def states_quantity(sentences: Iterable[str]) -> bool:
    """Whether any sentence of the documents gives such a figure (the guide's "a decade or more of substantial
    clinical practice" is none)."""
    return any(_STATED.search(s) for s in sentences)
