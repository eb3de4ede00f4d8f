"""What identifies a patient besides a name: record numbers, dates of birth, phone numbers, SSNs,
e-mail addresses, and the detectors built on them (`bot.privacy` says what is looked for and why).

Every pattern is linear in the text: labels and separators are bounded, a word
never starts inside a word, and e-mail addresses are found from their `@`
outwards. Each detector yields `PhiFinding`s; `bot.privacy` ranks them and
keeps the ones that do not overlap.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import phonenumbers

PhiKind = Literal["MRN", "DOB", "PHONE", "SSN", "EMAIL", "NAME", "DATE"]


@dataclass(frozen=True)
class PhiFinding:
    """A stretch of a message, [start, end), that identifies a patient, and what it is."""

    kind: PhiKind
    start: int
    end: int


_STARTS_WORD = r"(?<![^\W_])"
_ENDS_WORD = r"(?![^\W_])"
_BOUNDARY = re.compile(r"\\b(?P<end>(?=\(\?[=!])|(?![\w(\[]))?")


def compile_bounded(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile` with `\\b` a boundary of letters and digits only, so `_MRN_ 1234567` (Slack italics)
    has its label found as `MRN 1234567` has: a `\\b` before a word, group or class starts a word, any
    other ends one."""
    return re.compile(_BOUNDARY.sub(lambda m: _ENDS_WORD if m.group("end") is not None else _STARTS_WORD, pattern), flags)


# --- separators and markup between a label and its value -----------------------------------------
# Slack wraps words in * _ ~ `; Teams sends HTML (<p><strong>MRN</strong>: 1</p>, &nbsp;, &#58;).
MARKUP = r"(?:</?[A-Za-z][^<>]{0,60}>|&(?:nbsp|amp|colon|num|#\d{1,5}|#[xX][0-9a-fA-F]{1,4});)"
SEP = rf"(?:[\s:#=*_~`'\"’().,;|\[\]{{}}/\\+\-–—]|{MARKUP}){{0,12}}"
_LINK = r"\b(?:is|was|of|are|were|reads)\b\s{1,3}"
_GAP = rf"{SEP}(?:{_LINK}{SEP})?"

# --- record numbers --------------------------------------------------------------------------------
_NUMBER_WORD = r"(?:numbers?|nums?|nbr|no\b\.?|nos\b\.?|#|ids?\b|identifiers?)"
STRONG_LABEL = (
    r"\bMRN?s?\b|\bM\.R\.N\b\.?|\bMR[\s.]{0,2}#|\bMR\s{0,2}(?:no\b\.?|nums?\b|numbers?\b)"
    rf"|\bmed(?:ical)?[\s.-]{{0,2}}rec(?:ord)?s?(?:[\s.-]{{0,2}}{_NUMBER_WORD})?"
    rf"|\bhealth[\s.-]{{0,2}}record[\s.-]{{0,2}}{_NUMBER_WORD}"
    rf"|\bchart[\s.-]{{0,2}}{_NUMBER_WORD}"
    rf"|\b(?:patient|pt)(?:['’]s)?[\s.-]{{0,2}}{_NUMBER_WORD}"
)
_WEAK_LABEL = (
    r"\b(?:MRN?s?|patient|pt|chart|record|acct|account|encounter|visit|admission|case|accession|member|subscriber"
    r"|insurance|policy|medicare|medicaid|NHS|hospital|ID|identifier|DOB|birth|SSN|social)\b"
    r"|\b(?-i:FIN|CSN|HAR|EMPI|MPI|MBI|HICN|EPI)\b"
)
_ID_VALUE = r"(?:[A-Za-z]{1,4}-?)?\d(?:[-./ ]?\d){3,24}(?:-?[A-Za-z]{1,3})?"
MRN = compile_bounded(rf"(?:{STRONG_LABEL}){_GAP}(?P<value>{_ID_VALUE})(?![\w/])", re.IGNORECASE)
MRN_BEFORE = compile_bounded(
    rf"(?<![\w$€£.,])(?P<value>\d(?:[-. ]?\d){{5,24}})(?:\s{{0,3}}[(\[]\s{{0,3}}|\s{{1,3}}(?:is|=|-|–)\s{{1,3}}(?:(?:the|her|his|their|my)\s{{1,3}})?)(?:{STRONG_LABEL})",
    re.IGNORECASE,
)
_LABEL_NEAR = compile_bounded(_WEAK_LABEL, re.IGNORECASE)
_LONG_NUMBER = compile_bounded(r"(?<![\w$€£.,])\d(?:[-. ]?\d){5,24}(?![\w%])(?!\s{0,2}(?:k\b|%|\+|patients|people|visits|dollars|usd|per\b|a\s+year|annually|members|lives|beds|employees|staff|nurses|physicians|doctors|hours|miles|steps|residents|students|encounters|admissions|cases))", re.IGNORECASE)
_PHONE_LABEL = compile_bounded(r"\b(?:phone|ph|tel|telephone|cell|cellphone|mobile|mob|fax|pager|call|text|reach|contact|number)\b", re.IGNORECASE)
_PHONE_DIGITS = compile_bounded(r"(?<![\w$€£.,])\+?\(?\d(?:[-. ()]{0,2}\d){6,16}(?![\w%])")
NEAR_CHARS = 40
"""How far after a weaker label ("account", "patient", "FIN") a run of 6+ digits counts as its number."""

# --- dates -------------------------------------------------------------------------------------
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)(?![^\W\d_])\.?"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
_YEAR = r"(?:\d{4}|'?\d{2})(?!\d)"
_DSEP = r"[\s.,/\-]{1,3}"
_NUMERIC_DATE = r"\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})(?!\d)|\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}(?!\d)"
_FULL_DATE = (
    rf"(?<![\d/.\-])(?:{_NUMERIC_DATE}"
    rf"|{_DAY}{_DSEP}(?:of\s{{1,3}})?{_MONTH}{_DSEP}{_YEAR}"
    rf"|{_MONTH}{_DSEP}{_DAY}{_DSEP}{_YEAR})"
)
_PARTIAL_DATE = rf"(?:{_DAY}{_DSEP}(?:of\s{{1,3}})?{_MONTH}|{_MONTH}{_DSEP}{_DAY}(?!\d)|\d{{1,2}}/\d{{1,2}}(?![\d/]))"
DOB_LABEL = r"\b(?:DOB|D\.O\.B\b\.?|date\s{1,3}of\s{1,3}birth|birth[\s-]{0,2}date|birthday|born(?:\s{1,3}on)?)"
DOB = compile_bounded(rf"{DOB_LABEL}{_GAP}(?P<value>{_FULL_DATE}|{_PARTIAL_DATE})", re.IGNORECASE)
DATE = compile_bounded(rf"\b(?P<value>{_FULL_DATE})", re.IGNORECASE)

# --- SSN, phone --------------------------------------------------------------------------------
SSN_LABELLED = compile_bounded(
    rf"\b(?:SSN|SS#|social\s{{1,3}}security(?:\s{{1,3}}{_NUMBER_WORD})?|social){_GAP}(?P<value>\d{{3}}[- .]?\d{{2}}[- .]?\d{{4}})(?!\d)",
    re.IGNORECASE,
)
SSN_SHAPE = compile_bounded(r"(?<![\d-])(?P<value>(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\2(?!0000)\d{4})(?![\d-])")
_PHONE_SHAPE = compile_bounded(
    r"(?<![\w$])(?P<value>(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4})\b"
)

# --- e-mail, found from its @ --------------------------------------------------------------------
_AT = compile_bounded("@")
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-'")
_DOMAIN = compile_bounded(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])")
MAX_LOCAL_PART = 64


def email_findings(text: str) -> Iterator[PhiFinding]:
    for at in _AT.finditer(text):
        start = at.start()
        while start > 0 and at.start() - start < MAX_LOCAL_PART and text[start - 1] in _LOCAL_CHARS:
            start -= 1
        domain = _DOMAIN.match(text, at.end())
        if start < at.start() and domain:
            yield PhiFinding("EMAIL", start, domain.end())


# --- detectors ---------------------------------------------------------------------------------
def regex_findings(kind: PhiKind, pattern: re.Pattern[str], text: str) -> Iterator[PhiFinding]:
    """Each match of `pattern`'s `value` group as a finding of `kind`."""
    for match in pattern.finditer(text):
        yield PhiFinding(kind, match.start("value"), match.end("value"))


_SENTENCE_END = re.compile(r"[.!?]\s|\n")
_NEAR_LABELS: tuple[tuple[re.Pattern[str], re.Pattern[str], PhiKind], ...] = (
    (_LABEL_NEAR, _LONG_NUMBER, "MRN"),
    (_PHONE_LABEL, _PHONE_DIGITS, "PHONE"),
)


def near_label_findings(text: str) -> Iterator[PhiFinding]:
    """A run of 6+ digits shortly after a weaker label (in the same sentence) is its record number; one
    of 7+ digits after "phone", "cell", "tel:" … is a phone number, valid or not."""
    for labels, numbers, kind in _NEAR_LABELS:
        for label in labels.finditer(text):
            number = numbers.search(text, label.end(), min(len(text), label.end() + NEAR_CHARS))
            if number is not None and not _SENTENCE_END.search(text, label.end(), number.start()):
                yield PhiFinding(kind, number.start(), number.end())


MIN_PHONE_DIGITS = 6
"""The fewest digits any dialable number has, country code included (a 4-digit German number after +49);
`tests/test_privacy.py` checks it against phonenumbers' metadata for every region."""
DIGIT = compile_bounded(r"\d")


_PHONE_RUN = compile_bounded(r"\+?\(?\d(?:[\d \t().\-/]{0,28}\d)?")
"""A stretch that may hold a phone number: digits and the punctuation numbers are written with, at most
30 characters (the longest written number is about 25), so a long run is taken in bounded pieces."""
MAX_PHONE_STRETCHES = 12
"""Stretches of one message given to phonenumbers; past these, any stretch with a phone number's digits
is taken for one. phonenumbers tries every way of splitting a stretch ("1/1/1/…" costs it 10 ms), so a
message of such stretches would otherwise cost it a second."""
_MIN_DIGITS_PAST_THE_LIMIT = 7


def phone_findings(text: str) -> Iterator[PhiFinding]:
    """phonenumbers' matcher is by far the slowest detector (pure Python, run on every logged question)
    and slows more than in proportion on long runs of digits and punctuation, so it is given only the
    stretches that may hold a number, with enough digits for one, and a character of context either side
    (it refuses a number glued to letters)."""
    tried = 0
    for run in _PHONE_RUN.finditer(text):
        digits = len(DIGIT.findall(run.group()))
        if digits < MIN_PHONE_DIGITS:
            continue
        if tried == MAX_PHONE_STRETCHES:
            if digits >= _MIN_DIGITS_PAST_THE_LIMIT:
                yield PhiFinding("PHONE", run.start(), run.end())
            continue
        tried += 1
        offset = max(0, run.start() - 1)
        for match in phonenumbers.PhoneNumberMatcher(text[offset : run.end() + 1], "US"):
            yield PhiFinding("PHONE", offset + match.start, offset + match.end)
    yield from regex_findings("PHONE", _PHONE_SHAPE, text)
