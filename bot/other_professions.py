"""Questions about another profession's way into a physician executive role ("Can a PA become a medical director?",
"I'm a nurse practitioner with a DNP. Could I realistically become a CMO?"), which the guide, written for physicians
(MD or DO), never addresses.

The model reads the role words, not who is to fill the role: "im a PA-C, what path would get me to a CMO type role?"
was answered (0.93) with the physician's path, and the nurse practitioner's question (0.67) with "a decade or more of
substantial clinical practice", because its asking sentence ("Could I realistically become a CMO?") is judged alone
and the context that says who "I" is drops out. A message is refused, while no sentence of the documents names
another profession, when a question sentence asks whether or how members of one get to a role, or when the member
says they are one ("PA here 👋") and asks, in the first person ("I", "we", "us") and about no one else, how to get
there. A nurse manager asking about a hospitalist ("… What does that kind of patient safety work actually give him?"),
a physician who works with nurses, and a "nurse-turned-MD" are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.query import question_sentences

_PROFESSION = (
    r"(?:nurse\s+practitioners?|nurse\s+anesthetists?|registered\s+nurses?|nurses?|nps?|rns?|aprns?|dnps?|crnas?"
    r"|physician\s+(?:assistants?|associates?)|pa-?cs?|pas?|pharmacists?|pharm\.?\s?ds?|midwi(?:fe|ves)|dentists?"
    r"|psychologists?|(?:physical|occupational|respiratory|speech)\s+therapists?|optometrists?|podiatrists?"
    r"|chiropractors?|dietitians?|social\s+workers?|paramedics?|non-?physicians?|non-?clinicians?|non-?doctors?"
    r"|advanced\s+practice\s+(?:providers?|clinicians?|practitioners?|nurses?|professionals?))"
)
_LINKS = r"(?:with|and|of|for|to|over|who|whose|leading|managing|supervising|married|like)"
_IS_ONE = re.compile(
    rf"\b(?:i'?m|i\s+am|as|i\s+work\s+as|i'?ve\s+been)\s+(?:an?\s+)?(?:(?!{_LINKS}\b)[\w-]+\s+){{0,2}}?{_PROFESSION}\b(?![\s-]*turned)"
    rf"|(?:^|[.!?]\s+)(?:[\w-]+\s+){{0,2}}?{_PROFESSION}\s+here\b"
    r"|\bnot\s+an?\s+(?:doc|doctor|physician)\b",
    re.IGNORECASE,
)
"""The member saying what they are ("I'm a nurse practitioner", "as a PA-C", "PA here", "not a doc actually")."""
_FIRST_PERSON = re.compile(r"\b(?:i|i'?m|me|my|myself|we|us|our)\b", re.IGNORECASE)
_SOMEONE_ELSE = re.compile(r"\b(?:he|she|him|her|his|hers|they|them|their)\b", re.IGNORECASE)
_GETTING_THERE = re.compile(
    r"\b(?:become|becoming|be|get|getting|hired?|hiring|apply|applying|qualify|qualified|eligible|move|moving|moves"
    r"|transition\w*|path\w*|route|track|way|career|work\s+up|rise|advance|promot\w*|chance|realistic\w*|possible"
    r"|allowed|able|compete|considered|land|reach|climb|step)\b",
    re.IGNORECASE,
)
_ONES_WAY = re.compile(
    rf"\b(?:can|could|do|does|are|is|would|will|may|might|should|how|for)\s+(?:an?\s+)?"
    rf"(?:[\w-]+\s+)?{_PROFESSION}\s+(?:(?:can|could|would|might|will|may|should)\s+)?"
    r"(?:ever\s+|still\s+|also\s+|actually\s+|realistically\s+|really\s+)?"
    r"(?:becomes?|be|gets?|hired|serves?|apply|applies|qualify|qualifies|works?|moves?|go|goes|rises?|advances?|climbs?|reach(?:es)?"
    r"|make|makes|land|lands|transition(?:s)?|step|steps)\b"
    r"|\b(?:open|available|accessible|realistic|possible)\s+(?:to|for)\s+(?:an?\s+)?(?:[\w-]+\s+)?"
    rf"{_PROFESSION}\b"
    r"|\b(?:path|paths|pathway|route|routes|way|ways|track|road|door|ladder)\s+(?:for|to)\s+(?:an?\s+)?(?:[\w-]+\s+)?"
    rf"{_PROFESSION}\b"
    r"|\b(?:path|pathway|route|track|steps?|road)\s+(?:should|does|do|can|could|would|might|must)\s+(?:an?\s+)?(?:[\w-]+\s+)?"
    rf"{_PROFESSION}\s+(?:take|follow|use|go)\b"
    r"|\b(?:if|when|once)\s+(?:an?\s+)?(?:[\w-]+\s+)?"
    rf"{_PROFESSION}\s+(?:wants?|wanted|hopes?|hoped|plans?|planned|decides?|decided|aims?|aimed|wishe[sd]|wished)\s+to\s+"
    r"(?:become|be|get|move|go|transition|step|climb|reach|land|work)\b",
    re.IGNORECASE,
)
"""A question of whether or how members of a profession reach a role ("Can a PA become …", "how a nurse could work up …",
"Which leadership roles are open to physician assistants?", "any path for NPs or PAs into a CMO seat?", "What leadership
path should a nurse take to reach the C-suite?", "If a PA wanted to move into healthcare administration, …")."""
_NAMES_ONE = re.compile(rf"\b{_PROFESSION}\b", re.IGNORECASE)


def asks_other_profession(message: str) -> bool:
    """Whether a question sentence asks how another profession reaches a role, or the member, having said they are
    of one, asks how they get there."""
    questions = question_sentences(message)
    if any(_ONES_WAY.search(s) for s in questions):
        return True
    if not _IS_ONE.search(message):
        return False
    return any(_FIRST_PERSON.search(s) and _GETTING_THERE.search(s) and not _SOMEONE_ELSE.search(s) for s in questions)


def states_other_profession(sentences: Iterable[str]) -> bool:
    """Whether any sentence of the documents names another profession."""
    return any(_NAMES_ONE.search(s) for s in sentences)
