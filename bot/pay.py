"""Questions about what physician executives are paid ("What should I know about CMO pay?", "What does CMO pay look
like at a payer?"), which the guide never states: its money words are the organisation's (payment models, payers,
budgets, P&L).

The model mostly refuses them, but "pay" sits beside "payer" and "payment" in its embedding: those two questions were
answered at 0.89 and 0.92 with the payer CMO's and capitation's sentences. A question sentence that asks about pay,
salary, compensation or what a role earns is refused while no sentence of the documents states any. Earning a degree
or a credential ("Which credential can I earn …?") is not pay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.query import question_sentences, reports_a_question

_PEOPLE = r"cmos?|vpmas?|cqos?|directors?|officers?|executives?|execs?|physicians?|doctors?|docs?"
"""Who is paid: the guide's roles and physicians, as members name them."""
_PAY = re.compile(
    r"\b(?:salary|salaries|compensation|comp\s+(?:package|range|bump)|remuneration|wages?|earnings|bonus(?:es)?|stipends?"
    r"|stock\s+options|total\s+rewards|benefits\s+package|take[\s-]home|(?:six|seven)[\s-]figures?)\b"
    rf"|\b(?:{_PEOPLE}|leaders?|my|the|their|your)(?:'s|s')?"
    r"\s+pay\b(?!\s+(?:for|off|attention|into))"
    r"|\bpay\s+(?:bump|cut|range|scale|band|package|grade|raise|gap|difference|like|look)\b"
    rf"|\b(?:i|we|you|they|{_PEOPLE})\s+(?:actually\s+|really\s+)?(?:get|are|is|be|were|was)\s+paid\b"
    rf"|\b(?:what|how\s+much)\s+(?:do|does|did|would|will|can|could|might|should)\s+(?:an?\s+|the\s+|our\s+|my\s+)?"
    rf"(?:[\w'-]+\s+)?(?:{_PEOPLE})\b[^?.!;]{{0,80}}?\bget\s+paid\b"
    r"|\bhow\s+much\s+(?:money\s+)?(?:do|does|did|would|will|can|could|should|might)\s+(?:[\w'-]+\s+){1,4}(?:make|earn|get\s+paid|bring\s+in|take\s+home)\b"
    rf"|\bhow\s+much\s+(?:money\s+)?(?:an?\s+|the\s+)?(?:{_PEOPLE}|they|you|i|we|he|she)\s+(?:[\w'-]+\s+)?"
    r"(?:make|makes|made|earn|earns|earned|get\s+paid|gets\s+paid|bring\s+in|brings\s+in)\b"
    r"|\bearn\s+(?:more|less|about|around|over|under)\b"
    r"|\b(?:pays|paying)\s+(?:better|more|less|best|the\s+most|well|worse)\b|\bpaid\s+(?:better|more|less|the\s+most|best)\b"
    r"|\b(?:better|higher|best|highest|lower|worse)[\s-]+pa(?:id|ying)\b"
    r"|\bwhat\s+(?:do|does|did|would|will|can|could|might)\s+(?:[\w'-]+\s+){1,4}?(?:make|earn|bring\s+in|take\s+home)\b"
    r"(?=\s*(?:$|[?.!,;]|(?:as\s+an?|at|in|per|a\s+year|annually|yearly|compared|vs|versus|than|on\s+average|these\s+days|nowadays|now"
    r"|typically|usually|roughly|approximately)\b))",
    re.IGNORECASE,
)
"""A person's pay, asked about ("what does a cmo make at an insurance company?", "payer CMO vs hospital CMO: which one
pays better?", a mentee's reported "how much CMOs make"; "what does a CMO make decisions about?" asks no pay, nor
"What must a physician earn the CPE with?"); a hospital or a provider being paid ("How does capitation pay
providers?", "Do quality scores affect how much a hospital gets paid?") is the guide's payment models, and "pay off"
is worth."""
_CONTRAST = re.compile(r",\s+but\s+(?=(?:what|how|why|which|who|is|are|do|does|can|should)\b)", re.IGNORECASE)


_OPENS = re.compile(r"\s*(?:what|what's|whats|how|why|which|who|is|are|do|does|did|can|could|should|would|will)\b", re.IGNORECASE)
"""A sentence that opens like a question asks, with or without its question mark ("whats the pay like for a cqo")."""


def _asked(sentence: str) -> str:
    """The part of a sentence that asks: after a ", but" that turns to the question ("… is a higher salary, but what
    are the real benefits?")."""
    return _CONTRAST.split(sentence)[-1]


def asks_pay(message: str) -> bool:
    """Whether a sentence that asks (a question mark, a question word first, or someone's question reported) asks about a
    person's pay."""
    return any(
        _PAY.search(_asked(s))
        for s in question_sentences(message)
        if s.rstrip().endswith("?") or _OPENS.match(s) or reports_a_question(s)
    )


def states_pay(sentences: Iterable[str]) -> bool:
    """Whether any sentence of the documents states what a role is paid."""
    return any(_PAY.search(s) for s in sentences)
