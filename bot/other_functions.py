"""Questions that ask which executive owns a hospital function the guide assigns to no role ("Which role handles HR and
hiring for the hospital?", "Which role oversees graduate medical education and residency programs?").

Members ask the guide backwards ("Which role deals with HCAHPS scores?" is the CQO), and the model reads the shape of
such a question as the guide's: those two were answered (0.71, 0.68) with the VPMA's and the Medical Director's duties.
A question sentence that asks which role, title or executive runs one of these functions is refused while no sentence
of the documents names the function. The functions are the ones a hospital's other executives own (nursing, IT,
revenue cycle, HR, legal, facilities, GME …); finance, marketing, recruitment, purchasing and patient experience are
left out, as the guide names them (an MBA's training, a CMO's placement, value-based purchasing, HCAHPS).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.query import question_sentences

_FUNCTIONS = (
    r"nursing|nurses|pharmacy|pharmacists|it\s+department|information\s+technology|ehr|emr|electronic\s+(?:health|medical)"
    r"\s+records?|cyber\s*security|informatics|revenue\s+cycle|billing|coding|human\s+resources|hr|payroll|legal|lawyers?"
    r"|general\s+counsel|malpractice\s+claims|facilities|construction|maintenance|housekeeping|food\s+services|security"
    r"|supply\s+chain|procurement|graduate\s+medical\s+education|gme|residency\s+programs?|residents|irb"
    r"|research\s+ethics|ethics\s+committee|diversity|dei|equity\s+and\s+inclusion|infection\s+(?:control|prevention)"
    r"|case\s+management|discharge\s+planning|social\s+work|emergency\s+preparedness|joint\s+commission|accreditation"
    r"|fundraising|philanthropy|patient\s+relations|telehealth|telemedicine|lab(?:oratory)?"
    r"|radiology\s+department|imaging"
)
_FUNCTION = re.compile(rf"\b(?:{_FUNCTIONS})\b", re.IGNORECASE)
_OWNER = r"(?:role|roles|title|titles|executive|executives|exec|execs|leader|leaders|officer|officers|position|job)"
_WHICH_OWNER = re.compile(
    rf"\bwhich\s+(?:[\w-]+\s+){{0,2}}{_OWNER}\b|\bwhat\s+(?:kind|type|sort)\s+of\s+(?:[\w-]+\s+)?{_OWNER}\b"
    rf"|\bwhat\s+(?:(?!does|do|did|is|are|was|were|would|should|can|could|will)[\w-]+\s+)?{_OWNER}\b"
    r"|\bwhose\s+(?:job|role|responsibility)\b"
    r"|\bwho\s+(?:in\s+the\s+c-?suite\s+)?(?:usually\s+|typically\s+|actually\s+)?"
    r"(?:runs|oversees|owns|handles|manages|leads|chairs|is\s+(?:in\s+charge\s+of|responsible\s+for|over|accountable\s+for))\b",
    re.IGNORECASE,
)
"""A question of which executive owns something ("Which role handles …", "what kind of leader runs …", "Who in the
C-suite oversees …")."""


def asks_other_function(message: str) -> bool:
    """Whether a question sentence asks which role owns a function the guide assigns to none."""
    return any(_WHICH_OWNER.search(s) and _FUNCTION.search(s) for s in question_sentences(message))


def states_other_function(sentences: Iterable[str]) -> bool:
    """Whether any sentence of the documents names one of these functions."""
    return any(_FUNCTION.search(s) for s in sentences)
