"""Questions about a reporting line ("Who does the VPMA answer to?"), which the guide never states.

The embedding does not read direction: "Who oversees the CMO?" sits beside "What does the CMO oversee?", and
"Who is the CMO accountable to?" beside the bank's "What is the CMO accountable for?", so both were answered
(0.97 and 0.62) with the CMO's duties. Whom a role reports to is a focus the issue names and the guide leaves
out, and the words that ask it ("answer to", "sits above", "boss") are common words that lean no way on their
own. A question that asks it is refused while no sentence of the documents states a reporting line: a
published program-team answer that says "The CMO reports to the CEO" turns the rule off (`states_reporting_line`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.query import question_sentences

_ROLE = (
    r"(?:the\s+|a\s+|an\s+|our\s+|my\s+|their\s+|both\s+(?:the\s+)?|either\s+(?:the\s+)?)?(?:hospital's\s+|system's\s+|[a-z]+\s+)?"
    r"(?:cmos?|vpmas?|cqos?|cnos?|cmios?|ceos?|coos?|cfos?|medical\s+directors?|chief\s+[a-z]+\s+officers?|vice\s+presidents?"
    r"|vps?|directors?|presidents?|boards?|trustees|c-suite|executives?|physician\s+leaders?|administrators?|administration)\b(?!'s)"
)
"""Who can stand at either end of a reporting line: the guide's titles, the C-suite's and the board."""
_LINE = r"(?:reports?|reporting|answers?|answerable|accountable|responsible|subordinate)\s+(?:up\s+|directly\s+|direct\s+|straight\s+)?(?:to|into|through|thru)\b"
_AUXILIARY = r"(?:does|do|did|should|would|will|is|are|was|can|could|must|might)"
_WHO = r"(?:who|whom|whos|who's)"
_RELATIVE = "".join(
    rf"(?<!\b{noun}\s)"
    for noun in ("people", "those", "someone", "anyone", "everyone", "folks", "ones", "person", "leaders", "execs", "executives", "physicians", "doctors", "docs", "colleagues", "recruiters")
)
"""Before "who", a word that makes it relative, not asking: "weight with people who hire physician executives"
asks nothing of a reporting line."""
_ABOVE = r"(?:oversees?|supervises?|manages?|evaluates?|hires?|fires?|sits\s+(?:above|over)|(?:is|are)\s+(?:above|over)|above|over|ranks\s+above)"
_ENDS = r"(?=\s*(?:[?,;:-]|$|in\b|at\b|within\b|usually|typically|normally|generally|now|these|today))"
_ASKING = (
    r"\bto\s+whom\b",
    rf"\b{_AUXILIARY}\s+(?:\S+\s+){{1,5}}?{_LINE}\s+{_ROLE}",  # does the CQO usually report to the CMO
    rf"\b{_LINE}\s+{_ROLE}[^?.]{{0,120}}\bor\b",  # cmo reports to ceo or board?
    rf"\b{_LINE}\s+{_WHO}\b",  # med dir reports to who usually?
    rf"\b(?:{_WHO}|which|what)\b[^?.]{{0,120}}\b{_LINE}{_ENDS}",  # which executive does the CMO answer to?
    rf"\b{_WHO}\b[^?.]{{0,120}}\bwork(?:s|ing)?\s+for(?=\s*(?:[?,;:-]|$|in\b|at\b|usually|typically))",  # who does the VPMA work for
    rf"\b{_WHO}(?:\s+is|\s+are|\s+would\s+be)?\s+(?:\S+\s+){{0,3}}?(?:boss|bosses|supervisor|superiors?)\b",  # who is the CMO's boss
    rf"\b(?:boss|supervisor|superior)\s+of\s+{_ROLE}",
    r"\b(?:is|are)\s+(?:\S+\s+){1,4}?(?:my|the|their|his|her|a|an)\s+(?:direct\s+)?(?:boss|supervisor|superior)\b",  # is the VPMA my boss
    r"\bdirect\s+supervisor\b",
    rf"{_RELATIVE}\b{_WHO}(?:\s+is|\s+are)?\s+(?:\w+\s+(?:and|or)\s+)?{_ABOVE}\s+{_ROLE}",  # who hires and fires the CMO, who's above the CQO
    rf"\b(?:board|ceo|coo|cfo|president)\s+(?:\w+\s+)?(?:oversees?|supervises?|manages?|evaluates?|hires?|fires?)\s+{_ROLE}",
    rf"\b(?:falls?|works?|sits?|is)\s+under\s+{_ROLE}",  # does the vpma fall under the cmo
    rf"\b(?:managed|overseen|supervised|evaluated|appointed|hired|fired)\s+by\s+{_ROLE}",
    rf"\b(?:authority|power)\s+over\s+{_ROLE}",
    rf"\bin\s+charge\s+of\s+{_ROLE}",
    r"\btakes?\s+(?:orders|direction|instructions)\s+from\b",
    r"\b(?:org(?:anizational|anisational)?\s+chart|chain\s+of\s+command|dotted[-\s]+line|outranks?|ranks?\s+(?:higher|lower)"
    r"|above\s+or\s+below|below\s+or\s+above|sits?\s+(?:under|below|beneath)|(?:in|within)\s+the\s+(?:\S+\s+)?hierarchy)\b",
)
"""The ways a question asks whom a role reports to. A role reporting to someone in the member's own context ("As a
medical director reporting to the CMO, what's my next step?", "Does managing staff fall under the medical director's
responsibilities?") asks nothing of it: the line must be what the question asks."""
_ASKS = re.compile("|".join(_ASKING), re.IGNORECASE)
_MAY_ASK = re.compile(
    r"\b(?:whom|report|answer|accountab|responsib|subordinat|work|boss|supervis|superior|overs|over\b|manag|evaluat|hire"
    r"|fire|appointed|above|under\b|authority|power|charge|takes?\s|orders|direction|instructions|chart|command|dotted|outrank"
    r"|rank|below|beneath|hierarch)",
    re.IGNORECASE,
)
"""A word every way of `_ASKING` needs: most questions have none, and the full pattern, large and cold in the CPU's
caches after a run of the model, cost an answer about 0.1 ms at p50 (`make bench`)."""
_STATES = re.compile(r"\b" + _LINE + r"\s+" + _ROLE, re.IGNORECASE)


def asks_reporting_line(message: str) -> bool:
    """Whether a question sentence of the message asks whom a role reports to. Context sentences do not count
    ("I have six docs reporting to me. Does that count as admin experience?"), and a message without a question
    mark is read as one question."""
    if not _MAY_ASK.search(message):
        return False
    questions = question_sentences(message)
    return any(_ASKS.search(s) for s in questions)


def states_reporting_line(sentences: Iterable[str]) -> bool:
    """Whether any sentence of the documents says whom someone reports to."""
    return any(_STATES.search(s) for s in sentences)
