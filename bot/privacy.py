"""Finding protected health information in what members type.

Members are physicians; some will paste a patient's details into a career
question. Nothing identifying a patient may reach the question log, so callers
`redact` before storing and may refuse to answer when `looks_like_phi`.

The detectors are deliberately contextual: a bare number, a year or a doctor
naming themself is not PHI, while "MRN 12345678", "DOB 3/4/1961" or
"my patient John Smith" is. Over-redacting a career question costs little;
under-redacting a patient's identity is the failure that matters.
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
    kind: PhiKind
    start: int
    end: int


_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_FULL_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"
    r"|\d{4}-\d{1,2}-\d{1,2}"
    rf"|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?,?\s+\d{{4}})"
)

_MRN = re.compile(
    r"\b(?:MRN|med(?:ical)?\s*rec(?:ord)?(?:\s*(?:number|num|no\.?))?"
    r"|chart\s*(?:#|number|num|no\.?)|(?:patient|pt)\s*(?:id|#|number|num|no\.?))"
    r"\s*(?:#|:|=|is)?\s*(?P<value>(?=[a-z-]*\d)[a-z0-9][a-z0-9-]{3,})",
    re.IGNORECASE,
)
_DOB = re.compile(
    r"\b(?:DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s*date|birthday|born(?:\s+on)?)"
    rf"\s*(?:[:=-]|is|was)?\s*(?P<value>{_FULL_DATE})",
    re.IGNORECASE,
)
_DATE = re.compile(rf"\b(?P<value>{_FULL_DATE})\b", re.IGNORECASE)
_SSN_LABELLED = re.compile(
    r"\b(?:SSN|social\s+security(?:\s+(?:number|no\.?))?|social)\s*(?:[:#]|is)?\s*(?P<value>\d{9})\b",
    re.IGNORECASE,
)
_SSN_SHAPE = re.compile(r"\b(?P<value>(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\2(?!0000)\d{4})\b")
_EMAIL = re.compile(r"\b(?P<value>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b")
_PHONE_SHAPE = re.compile(
    r"(?<![\w$])(?P<value>(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4})\b"
)

_NAME_WORD = r"[A-Z][a-z]+(?:['-][A-Z]?[a-z]+)?"
_ONE_TO_THREE_NAMES = rf"(?P<value>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}})"
_TWO_OR_THREE_NAMES = rf"(?P<value>{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,2}})"
_AGE_SEX = r"\s+(?:a\s+)?(?:1[01]\d|\d{1,2})\s*(?i:y/?o|y\.o\.|yrs?|-?year-old)?\s*(?:M|F|(?i:male|female|man|woman))\b"
_NAME_PATTERNS = (
    # "my patient John Smith", "pt Jane Doe", "patient named Robert Brown"
    re.compile(
        r"(?:\b(?i:my|our|the|a|this|that|his|her)\s+(?i:patient)|\b[Pp]atient|\b[Pp]t\.?)"
        r"(?:\s+(?i:named|called|is|was|name\s+is))?[:,]?\s+" + _ONE_TO_THREE_NAMES
    ),
    # "Mr. Smith", "Mrs. Garcia" (a doctor naming themself as "Dr. Patel" is fine)
    re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx)\.?\s+" + _ONE_TO_THREE_NAMES),
    # "Smith, 67M", "Jane Doe 45 yo F"
    re.compile(_ONE_TO_THREE_NAMES + "," + _AGE_SEX),
    re.compile(_TWO_OR_THREE_NAMES + _AGE_SEX),
)
_NAME_WORD_RE = re.compile(_NAME_WORD)

# Capitalised words that follow "patient" or "pt" in ordinary career talk
# ("Patient Experience Officer", "Patient Safety") and are nobody's name.
_NOT_NAMES = frozenset(
    """
    access advocacy advocate affairs annual budget care centered centred communication
    coordinator council days department director doctor education engagement experience
    family first flow health how information journey leader leadership liaison manager
    medicine navigator officer outcomes physician portal program programs quality relations
    reported revenue rights safety satisfaction service services specialist support the
    throughput total transport unit volume volumes what when where which who why
    """.split()
)


def _name_findings(text: str) -> Iterator[PhiFinding]:
    for pattern in _NAME_PATTERNS:
        for match in pattern.finditer(text):
            end = None
            for word in _NAME_WORD_RE.finditer(text, match.start("value"), match.end("value")):
                if word.group().lower() in _NOT_NAMES:
                    break
                end = word.end()
            if end is not None:
                yield PhiFinding("NAME", match.start("value"), end)


def _regex_findings(kind: PhiKind, pattern: re.Pattern[str], text: str) -> Iterator[PhiFinding]:
    for match in pattern.finditer(text):
        yield PhiFinding(kind, match.start("value"), match.end("value"))


MIN_PHONE_DIGITS = 6
"""The fewest digits any dialable number has, country code included (a 4-digit German number after +49);
`tests/test_privacy.py` checks it against phonenumbers' metadata for every region."""
_DIGIT = re.compile(r"\d")


def _phone_findings(text: str) -> Iterator[PhiFinding]:
    """phonenumbers' matcher is by far the slowest detector (pure Python, run on every logged question),
    so text without enough digits to hold any number skips it."""
    if len(_DIGIT.findall(text)) >= MIN_PHONE_DIGITS:
        for match in phonenumbers.PhoneNumberMatcher(text, "US"):
            yield PhiFinding("PHONE", match.start, match.end)
    yield from _regex_findings("PHONE", _PHONE_SHAPE, text)


# Earlier kinds win when findings overlap: "DOB 03/04/1961" is a DOB, not a DATE,
# and "123-45-6789" an SSN even if it were to parse as a phone number.
_PRIORITY: tuple[PhiKind, ...] = ("SSN", "MRN", "DOB", "EMAIL", "PHONE", "NAME", "DATE")


def find_phi(text: str) -> list[PhiFinding]:
    """Every non-overlapping stretch of `text` that identifies a patient, in text order."""
    candidates: list[PhiFinding] = [
        *_regex_findings("SSN", _SSN_LABELLED, text),
        *_regex_findings("SSN", _SSN_SHAPE, text),
        *_regex_findings("MRN", _MRN, text),
        *_regex_findings("DOB", _DOB, text),
        *_regex_findings("EMAIL", _EMAIL, text),
        *_phone_findings(text),
        *_name_findings(text),
        *_regex_findings("DATE", _DATE, text),
    ]
    candidates.sort(key=lambda f: (_PRIORITY.index(f.kind), f.start, -(f.end - f.start)))
    chosen: list[PhiFinding] = []
    for finding in candidates:
        if all(finding.end <= kept.start or finding.start >= kept.end for kept in chosen):
            chosen.append(finding)
    return sorted(chosen, key=lambda f: f.start)


def redact(text: str) -> str:
    """`text` with each finding replaced by its kind in brackets, e.g. "MRN [MRN]"."""
    parts: list[str] = []
    cursor = 0
    for finding in find_phi(text):
        parts.append(text[cursor : finding.start])
        parts.append(f"[{finding.kind}]")
        cursor = finding.end
    parts.append(text[cursor:])
    return "".join(parts)


_PATIENT_CONTEXT = re.compile(
    r"(?i)\b(?:patient|pt|admitted|admission|discharged?|diagnos\w*|surgery|procedure|seen on|visit)\b"
)


def looks_like_phi(text: str) -> bool:
    """Whether a message seems to carry a patient's identifiers.

    A full date alone is not enough ("my contract starts 07/01/2026"); it counts
    when the message also speaks of a patient, an admission or a procedure.
    """
    findings = find_phi(text)
    if any(finding.kind != "DATE" for finding in findings):
        return True
    return bool(findings) and _PATIENT_CONTEXT.search(text) is not None
