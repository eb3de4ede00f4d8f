"""Finding protected health information in what members type.

Members are physicians; some will paste a patient's details into a career
question. Nothing identifying a patient may reach the question log, so callers
`redact` before storing and may refuse to answer when `looks_like_phi`.

The detectors are deliberately contextual: a bare number, a year or a doctor
naming themself is not PHI, while "MRN 12345678", "DOB 3/4/1961" or
"my patient John Smith" is. Over-redacting a career question costs little;
under-redacting a patient's identity is the failure that matters.

What is looked for (the README's privacy section says the same for staff):

- record numbers after a label (MRN, MR#, medical record, chart, patient id …)
  whatever separator or markup stands between (`MRN#: 1`, `MRN - 1`, `*MRN* 1`,
  `<strong>MRN</strong>: 1`), and any run of 6+ digits just after a weaker label
  (account, encounter, FIN, Medicare, patient …);
- dates of birth after a label, numeric or with a month's name (`05-Mar-1958`,
  `1 Feb 60`, `March 5th, 1958`), with or without the year;
- phone numbers (phonenumbers' matcher and the US shapes), SSNs, e-mail addresses;
- a patient's name after "my patient", "pt", "patient named", "Name:", Mr/Mrs/Ms,
  before an age and sex ("Smith, 67M") or before a labelled identifier
  ("Peter Parker, MRN 1"), in any case and any alphabet, the whole run of it
  ("Wayne, Bruce", "José García", "McDonald");
- other full dates (redacted; a patient only with patient context).

Every pattern is linear in the text: labels and separators are bounded, a
word never starts inside a word, and e-mail addresses are found from their
`@` outwards. The text is cut to `max_chars` (GUIDEBOT_MAX_QUESTION_CHARS) before
any of it, and `redact` returns the cut text, which is all the bot ever reads
or stores.

Microsoft Presidio was weighed and not used: without a spaCy model (not
installable here) it has no name or record-number recogniser and its context
words do nothing, it imports spaCy (over a second), and it reaches the network
for model and domain lists. What it does without a model is plain regular
expressions and phonenumbers, as here.

This module is the guard's API (`looks_like_phi`, `redact`, `find_phi`) and
decides between overlapping findings; the detectors are in `bot.phi_patterns`
(numbers, dates, contacts) and `bot.phi_names` (names).
"""

from __future__ import annotations

from bisect import bisect_left
from functools import lru_cache

from bot.phi_names import BEFORE_CHARS, MAX_NAME_WORDS, name_findings
from bot.phi_patterns import (
    DATE,
    DIGIT,
    DOB,
    MAX_LOCAL_PART,
    MAX_PHONE_STRETCHES,
    MIN_PHONE_DIGITS,
    MRN,
    MRN_BEFORE,
    NEAR_CHARS,
    SSN_LABELLED,
    SSN_SHAPE,
    PhiFinding,
    PhiKind,
    compile_bounded,
    email_findings,
    near_label_findings,
    phone_findings,
    regex_findings,
)
from bot.settings import Settings

__all__ = [
    "BEFORE_CHARS",
    "MAX_CHARS",
    "MAX_LOCAL_PART",
    "MAX_NAME_WORDS",
    "MAX_PHONE_STRETCHES",
    "MIN_PHONE_DIGITS",
    "NEAR_CHARS",
    "PhiFinding",
    "PhiKind",
    "cut",
    "find_phi",
    "looks_like_phi",
    "redact",
]

MAX_CHARS: int = Settings.model_fields["max_question_chars"].default
"""How much of a message is examined (and returned by `redact`) unless told: GUIDEBOT_MAX_QUESTION_CHARS's default."""


def cut(text: str, max_chars: int = MAX_CHARS) -> str:
    """The part of a message the bot reads, detects in and stores."""
    return text[:max_chars]


def _candidates(text: str) -> list[tuple[int, PhiFinding]]:
    """Every detector's findings with its rank: lower ranks win where findings overlap ("DOB 03/04/1961"
    is a DOB, not a DATE; a labelled record number beats a phone number it might parse as; a phone
    number beats a bare 6-digit run near "patient"). Most questions hold no digit, and so no number or
    date: only names and e-mail addresses are looked for in those."""
    if DIGIT.search(text) is None:
        return [(2, f) for f in email_findings(text)] + [(5, f) for f in name_findings(text, [])]
    labelled = [
        *regex_findings("SSN", SSN_LABELLED, text),
        *regex_findings("MRN", MRN, text),
        *regex_findings("MRN", MRN_BEFORE, text),
        *regex_findings("DOB", DOB, text),
    ]
    ranked: list[tuple[int, PhiFinding]] = [(0, f) for f in labelled]
    ranked += [(1, f) for f in regex_findings("SSN", SSN_SHAPE, text)]
    ranked += [(2, f) for f in email_findings(text)]
    ranked += [(3, f) for f in phone_findings(text)]
    ranked += [(4, f) for f in near_label_findings(text)]
    ranked += [(5, f) for f in name_findings(text, labelled)]
    ranked += [(6, f) for f in regex_findings("DATE", DATE, text)]
    return ranked


def find_phi(text: str, max_chars: int = MAX_CHARS) -> list[PhiFinding]:
    """Every non-overlapping stretch of `text` (its first `max_chars` characters) that identifies a
    patient, in text order."""
    return list(_find_phi(cut(text, max_chars)))


@lru_cache(maxsize=32)
def _find_phi(text: str) -> tuple[PhiFinding, ...]:
    """Cached for the few latest messages: callers ask `looks_like_phi` and then `redact` of the same text."""
    ranked = _candidates(text)
    ranked.sort(key=lambda item: (item[0], item[1].start, -(item[1].end - item[1].start)))
    starts: list[int] = []
    chosen: list[PhiFinding] = []
    for _, finding in ranked:
        if finding.end <= finding.start:
            continue
        at = bisect_left(starts, finding.start)
        if at > 0 and chosen[at - 1].end > finding.start:
            continue
        if at < len(chosen) and chosen[at].start < finding.end:
            continue
        starts.insert(at, finding.start)
        chosen.insert(at, finding)
    return tuple(chosen)


def redact(text: str, max_chars: int = MAX_CHARS) -> str:
    """`text`, cut to `max_chars`, with each finding replaced by its kind in brackets, e.g. "MRN [MRN]"."""
    text = cut(text, max_chars)
    parts: list[str] = []
    cursor = 0
    for finding in _find_phi(text):
        parts.append(text[cursor : finding.start])
        parts.append(f"[{finding.kind}]")
        cursor = finding.end
    parts.append(text[cursor:])
    return "".join(parts)


_PATIENT_CONTEXT = compile_bounded(
    r"(?i)\b(?:patient|pt|admitted|admission|discharged?|diagnos\w*|surgery|procedure|seen on|visit)\b"
)


def looks_like_phi(text: str, max_chars: int = MAX_CHARS) -> bool:
    """Whether a message (its first `max_chars` characters) seems to carry a patient's identifiers.

    A full date alone is not enough ("my contract starts 07/01/2026"); it counts
    when the message also speaks of a patient, an admission or a procedure.
    """
    text = cut(text, max_chars)
    findings = _find_phi(text)
    if any(finding.kind != "DATE" for finding in findings):
        return True
    return bool(findings) and _PATIENT_CONTEXT.search(text) is not None
