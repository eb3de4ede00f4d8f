"""Questions about medical specialties as such ("Which specialties produce the most CMOs?", "Do oncologists have an edge
for biotech CMO roles?"), which the guide never names: it describes one path for any physician.

The model reads the role words around the specialty, not the specialty: "are pathologists a natural fit for the CQO
role?" was answered (0.93) with the CQO's duties, "Do executive recruiters prefer proceduralists or non-proceduralists
for CMO searches?" (0.94) with the search firms'. A question sentence that names specialties as what it asks about is
refused while no sentence of the documents names one: the word "specialty" itself, or specialists in the plural
weighed against each other or against the job ("Do oncologists have an edge …", "are hospitalists favoured …"), or two
different specialists weighed in the singular ("Is it harder for a radiologist … than for a hospitalist?"). A
member's own specialty told as context ("As a radiologist, how do I get started?", "I'm a specialist, which degree
…?") and a group asking how it gets there ("How do hospitalists … develop in that direction?") are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.query import question_sentences

_SPECIALTY = re.compile(r"\b(?:sub)?specialt(?:y|ies)\b|\b(?:sub)?specialists?\b|\bgeneralists?\b", re.IGNORECASE)
_OWN = re.compile(r"\b(?:i'?m|i\s+am|as|being|was|became)\s+(?:an?\s+)?(?:[\w-]+\s+){0,2}$", re.IGNORECASE)
"""Words just before "specialist" that make it the member's own description ("I'm a specialist", "as a subspecialist")."""
_SPECIALISTS = re.compile(
    r"\b(?:[a-z]+ologists|psychiatrists|physiatrists|hospitalists|internists|intensivists|(?:non-?)?proceduralists"
    r"|surgeons|pediatricians|paediatricians|obstetricians|orthopedists|anesthetists"
    r"|(?:er|em|ed|ob|peds|primary\s+care|family\s+medicine|im|icu|er/em)\s+(?:docs|doctors|physicians)|pcps|family\s+physicians"
    r"|primary\s+care\s+physicians)\b",
    re.IGNORECASE,
)
_WEIGHED = re.compile(
    r"\b(?:edge|advantage|disadvantage|favou?r(?:ed|s|ite)?|prefer(?:red|s|ence)?|better|worse|best|more|less|most|fewer"
    r"|over|than|likely|over-?represented|under-?represented|represented|dominate|fit|suited|respect(?:ed)?|overlooked"
    r"|barriers?|struggle|harder|easier|percentage|share|proportion|usually|typically|often|rarely|ever|common|track"
    r"|pathway|compared?|versus|vs)\b",
    re.IGNORECASE,
)
"""Words that weigh specialists against each other or the job ("an *edge*", "*favoured*", "*more likely* than")."""
_FIELD = (
    r"(?:[a-z]+ology|[a-z]+ologist|psychiatry|psychiatrist|anesthesia|anaesthesia|surgery|surgeon|pediatrics|paediatrics"
    r"|pediatrician|peds|internal\s+medicine|internist|im|emergency\s+medicine|em|er|hospital\s+medicine|hospitalist"
    r"|family\s+medicine|family\s+practice|primary\s+care|critical\s+care|intensivist|ob[\s/-]*gyn|obstetrics|ortho(?:pedics)?"
    r"|derm|cards|gi|rheum|neuro|onc|rads|geriatrics|palliative\s+care)"
)
_FIELD_AS_ROUTE = re.compile(
    rf"\b(?:is|was|would\s+be|isn'?t)\s+(?:being\s+)?(?:an?\s+)?(?:[\w-]+\s+)?{_FIELD}\s+(?:(?:doc|physician|background)\s+)?"
    r"(?:really\s+|actually\s+)?(?:an?\s+)?(?:[\w-]+\s+){0,2}"
    r"(?:background|path|pathway|springboard|route|fit|launch\s*pad|stepping\s*stone|pipeline|feeder|start(?:ing\s+point)?"
    r"|place\s+to\s+start|foundation)\b",
    re.IGNORECASE,
)
"""One field or specialist asked about as a route to a role ("is anesthesia a good springboard for becoming a CQO?",
"is being an intensivist a particularly good path to chief quality officer?")."""
_FIELDS_WEIGHED = re.compile(
    rf"\b{_FIELD}\s+(?:(?:residency|training|background|doc|docs|physician|physicians)\s+)?(?:or|vs\.?|versus)\s+{_FIELD}\b",
    re.IGNORECASE,
)
"""Two fields set against each other ("Internal medicine or emergency medicine residency: which sets you up better …?")."""
_SPECIALIST = re.compile(
    r"\b(?:[a-z]+ologist|psychiatrist|physiatrist|hospitalist|internist|intensivist|proceduralist|surgeon|pediatrician"
    r"|paediatrician|obstetrician|orthopedist|anesthetist|pcp|family\s+physician)s?\b",
    re.IGNORECASE,
)
"""One specialist, or many: two different ones weighed in a sentence ("Is it harder for a radiologist to move into the
executive suite than for a hospitalist?") ask about specialties as `_SPECIALISTS` in the plural do."""


def _named_not_as_own(pattern: re.Pattern[str], sentence: str) -> set[str]:
    """The different things `pattern` finds in `sentence` other than the member's own description of themselves."""
    return {m.group(0).lower().rstrip("s") for m in pattern.finditer(sentence) if not _OWN.search(sentence[: m.start()])}


def asks_specialties(message: str) -> bool:
    """Whether a question sentence asks about medical specialties rather than telling the member's own."""
    for sentence in question_sentences(message):
        if _named_not_as_own(_SPECIALTY, sentence):
            return True
        if _SPECIALISTS.search(sentence) and _WEIGHED.search(sentence):
            return True
        if _FIELD_AS_ROUTE.search(sentence) or _named_not_as_own(_FIELDS_WEIGHED, sentence):
            return True
        if len(_named_not_as_own(_SPECIALIST, sentence)) >= 2 and _WEIGHED.search(sentence):
            return True
    return False


def states_specialties(sentences: Iterable[str]) -> bool:
    """Whether any sentence of the documents names a specialty, or specialists."""
    return any(_SPECIALTY.search(s) or _SPECIALISTS.search(s) for s in sentences)
