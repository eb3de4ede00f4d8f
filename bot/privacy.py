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
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import phonenumbers

from bot.settings import Settings

PhiKind = Literal["MRN", "DOB", "PHONE", "SSN", "EMAIL", "NAME", "DATE"]

MAX_CHARS: int = Settings.model_fields["max_question_chars"].default
"""How much of a message is examined (and returned by `redact`) unless told: GUIDEBOT_MAX_QUESTION_CHARS's default."""


@dataclass(frozen=True)
class PhiFinding:
    kind: PhiKind
    start: int
    end: int


_STARTS_WORD = r"(?<![^\W_])"
_ENDS_WORD = r"(?![^\W_])"
_BOUNDARY = re.compile(r"\\b(?P<end>(?=\(\?[=!])|(?![\w(\[]))?")


def _compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile` with `\\b` a boundary of letters and digits only, so `_MRN_ 1234567` (Slack italics)
    has its label found as `MRN 1234567` has: a `\\b` before a word, group or class starts a word, any
    other ends one."""
    return re.compile(_BOUNDARY.sub(lambda m: _ENDS_WORD if m.group("end") is not None else _STARTS_WORD, pattern), flags)


def cut(text: str, max_chars: int = MAX_CHARS) -> str:
    """The part of a message the bot reads, detects in and stores."""
    return text[:max_chars]


# --- separators and markup between a label and its value -----------------------------------------
# Slack wraps words in * _ ~ `; Teams sends HTML (<p><strong>MRN</strong>: 1</p>, &nbsp;, &#58;).
_MARKUP = r"(?:</?[A-Za-z][^<>]{0,60}>|&(?:nbsp|amp|colon|num|#\d{1,5}|#[xX][0-9a-fA-F]{1,4});)"
_SEP = rf"(?:[\s:#=*_~`'\"’().,;|\[\]{{}}/\\+\-–—]|{_MARKUP}){{0,12}}"
_LINK = r"\b(?:is|was|of|are|were|reads)\b\s{1,3}"
_GAP = rf"{_SEP}(?:{_LINK}{_SEP})?"

# --- record numbers --------------------------------------------------------------------------------
_NUMBER_WORD = r"(?:numbers?|nums?|nbr|no\b\.?|nos\b\.?|#|ids?\b|identifiers?)"
_STRONG_LABEL = (
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
_MRN = _compile(rf"(?:{_STRONG_LABEL}){_GAP}(?P<value>{_ID_VALUE})(?![\w/])", re.IGNORECASE)
_MRN_BEFORE = _compile(
    rf"(?<![\w$€£.,])(?P<value>\d(?:[-. ]?\d){{5,24}})(?:\s{{0,3}}[(\[]\s{{0,3}}|\s{{1,3}}(?:is|=|-|–)\s{{1,3}}(?:(?:the|her|his|their|my)\s{{1,3}})?)(?:{_STRONG_LABEL})",
    re.IGNORECASE,
)
_LABEL_NEAR = _compile(_WEAK_LABEL, re.IGNORECASE)
_LONG_NUMBER = _compile(r"(?<![\w$€£.,])\d(?:[-. ]?\d){5,24}(?![\w%])(?!\s{0,2}(?:k\b|%|\+|patients|people|visits|dollars|usd|per\b|a\s+year|annually|members|lives|beds|employees|staff|nurses|physicians|doctors|hours|miles|steps|residents|students|encounters|admissions|cases))", re.IGNORECASE)
_PHONE_LABEL = _compile(r"\b(?:phone|ph|tel|telephone|cell|cellphone|mobile|mob|fax|pager|call|text|reach|contact|number)\b", re.IGNORECASE)
_PHONE_DIGITS = _compile(r"(?<![\w$€£.,])\+?\(?\d(?:[-. ()]{0,2}\d){6,16}(?![\w%])")
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
_DOB_LABEL = r"\b(?:DOB|D\.O\.B\b\.?|date\s{1,3}of\s{1,3}birth|birth[\s-]{0,2}date|birthday|born(?:\s{1,3}on)?)"
_DOB = _compile(rf"{_DOB_LABEL}{_GAP}(?P<value>{_FULL_DATE}|{_PARTIAL_DATE})", re.IGNORECASE)
_DATE = _compile(rf"\b(?P<value>{_FULL_DATE})", re.IGNORECASE)

# --- SSN, phone --------------------------------------------------------------------------------
_SSN_LABELLED = _compile(
    rf"\b(?:SSN|SS#|social\s{{1,3}}security(?:\s{{1,3}}{_NUMBER_WORD})?|social){_GAP}(?P<value>\d{{3}}[- .]?\d{{2}}[- .]?\d{{4}})(?!\d)",
    re.IGNORECASE,
)
_SSN_SHAPE = _compile(r"(?<![\d-])(?P<value>(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\2(?!0000)\d{4})(?![\d-])")
_PHONE_SHAPE = _compile(
    r"(?<![\w$])(?P<value>(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4})\b"
)

# --- e-mail, found from its @ --------------------------------------------------------------------
_AT = _compile("@")
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-'")
_DOMAIN = _compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])")
MAX_LOCAL_PART = 64


def _email_findings(text: str) -> Iterator[PhiFinding]:
    for at in _AT.finditer(text):
        start = at.start()
        while start > 0 and at.start() - start < MAX_LOCAL_PART and text[start - 1] in _LOCAL_CHARS:
            start -= 1
        domain = _DOMAIN.match(text, at.end())
        if start < at.start() and domain:
            yield PhiFinding("EMAIL", start, domain.end())


# --- names -------------------------------------------------------------------------------------
_NAME_TOKEN = _compile(r"(?<![^\W\d_'’])[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_])){0,40}(?![^\W\d_])\.?")
_BETWEEN_NAMES = _compile(rf"(?:[ \t*_~]|{_MARKUP}){{1,6}}")
_COMMA = _compile(rf"(?:[ *_~]|{_MARKUP}){{0,4}},(?:[ *_~]|{_MARKUP}){{1,4}}")
MAX_NAME_WORDS = 4

# Words that are nobody's name in these messages: English function words and common verbs, and the
# career and clinical words that follow "patient" ("Patient Experience Officer", "my patient panel").
_NOT_NAMES = frozenset(
    """
    a about above after again against all almost already also always am an and another any anyone anything
    are around as asked asks at away back bad be became because become becomes been before being below
    best better between both but by came can cannot come comes could daily day days did do does doing
    done down during each early either else enough even ever every everyone few first for from get gets
    getting go goes going gone good got great had has have having he her here hers herself him himself his
    how however i if in into is it its itself just keep keeps kept know last later least left less let
    like made make makes many may me might mine more most much must my myself need needed needs never new
    next no none nor not nothing now of off often old on once one only or other others our ours out over
    own past per please quite rather really recently right said same say says saw see seen seems she
    should since so some someone something soon still such sure take taken takes tell than that the their
    theirs them then there these they thing things think this those though through to today told tomorrow
    too took toward under until up upon us very via wants want wanted was we well went were what when
    where whether which while who whom whose why will with within without would yes yesterday yet you your
    yours yourself
    accepted admitted advised agreed arrived called calls came complained complains coded consented
    declined denied died discharged expired fell felt followed found gave has left lost missed needs
    passed presented presents refused reported returned said scheduled seemed signed started stated
    stopped suffered talked thinks tried turned underwent visited waited walked wanted was went woke
    wrote
    access acuity admission admissions advocacy advocate advocates affairs annual assessment base bed beds
    bill billing budget care case cases census center centered centred chart charts choice clinic
    communication communications complaint complaints compliance coordinator council count counts data
    death deaths demographics department director directors discharge education encounter encounters
    engagement experience experiences facing family feedback file files first flow focus focused follow
    handoff handoffs harm health history home identification identity information intake journey leader
    leaders leadership liaison lists list load loads lookup loyalty manager managers medicine mix mortality
    navigation navigator navigators note notes number numbers officer officers outcome outcomes panel panels
    population populations portal portals privacy program programs quality ratings readmission readmissions
    record records referral referrals registration relations reported reports representative request
    requests revenue reviews rights room rooms safety satisfaction schedule scheduling score scores
    service services specialist specialists story stories support survey surveys throughput total
    tracking transfer transfers transport trust unit units visit visits volume volumes voice wait waits
    portal advisory centred-care
    monday tuesday wednesday thursday friday saturday sunday mondays tuesdays wednesdays thursdays fridays
    saturdays sundays weekend weekends zero two three four five six seven eight nine ten
    name names protection affordable act i'm i’m i've i’ve i'd i’d i'll i’ll who what when where which why how mr mrs ms miss mx mister dr doctor prof professor sir madam
    abc
    """.split()
)
_ACRONYMS = frozenset(
    """
    aco acos ama aapl ache cahps cme cmo cms cno coo cpe cpt csuite cto dnp do drg ed eds ehr ehrs emr
    emrs er hcahps hipaa icu icd id ids lean md mba mha mmm mpa mph mrn ms nicu np nps nurse or pa pcp
    pcps phi pt px qi rn rvu rvus snf snfs vp vpma ot slp rt cna lpn aprn crna dpt pharmd ccu pacu ob gyn obgyn
    peds gi ent hr it ceo cfo cio cso cco cmio cqo cpo cxo aca
    """.split()
)
_TITLE_NAMES = frozenset(
    "will mark grant rose bill pat sue may june april august faith hope joy jack bob ray dawn summer "
    "amber ruby grace iris lily daisy penny sunny rich frank gene dean".split()
)
"""Names that are also English words: taken as names when written with a capital."""


_PARTICLES = frozenset(
    "an van von de da di del della der den la le du do dos das bin ibn al el ter ten st mac ni nic y e".split()
)
"""Words inside names ("Nguyễn Văn An", "Ludwig van Beethoven", "María de la Cruz") that are also common
words: part of a name run only between name words."""


def _is_initial(word: str) -> bool:
    """"J." in "John Q. Public", or a lone capital ("Seán Ó Briain", "John Q Public"), but never "I"."""
    return (len(word) == 2 and word[1] == "." or len(word) == 1) and word[0].isupper() and word[0] != "I"


def _could_be_name(word: str, *, lower: bool) -> bool:
    if _is_initial(word):
        return True
    bare = word.rstrip(".")
    for suffix in ("'s", "’s"):
        if bare.lower().endswith(suffix):
            bare = bare[: -len(suffix)]
    folded = bare.casefold()
    if len(folded) < 2:
        return False
    if bare[0].isupper() and not bare.isupper() and folded in _TITLE_NAMES:
        return True
    if folded in _NOT_NAMES or folded in _ACRONYMS:
        return False
    if bare[0].isupper() or not bare[0].islower():
        return True  # capitalised, or a script without case (Arabic, Hebrew, Devanagari …)
    return lower


def _name_run(text: str, pos: int, *, lower: bool, min_lower_words: int = 2) -> int | None:
    """Where the run of name words that starts at `pos` ends (None: no name there).

    Up to MAX_NAME_WORDS words, with initials and markup between them, and one comma
    ("Wayne, Bruce"). A run of only lowercase words counts when `lower` and it has at least
    `min_lower_words` words (one lowercase word after "my patient" is too often just a word)."""
    end = None
    words = 0
    all_lower = True
    comma_used = False
    cursor = pos
    for _ in range(2 * MAX_NAME_WORDS):  # name words and particles between them, bounded
        token = _NAME_TOKEN.match(text, cursor)
        if token is None:
            break
        word = token.group()
        particle = words > 0 and word.casefold() in _PARTICLES
        if particle and word[0].isupper() and not all_lower:
            particle = words >= MAX_NAME_WORDS  # "Nguyễn Văn An": a capitalised one is a name word
        # Names are written in one case: after "Garcia", "labs" is no longer the name.
        elif not particle and (words >= MAX_NAME_WORDS or not _could_be_name(word, lower=lower and all_lower)):
            break
        if not particle:
            words += 1
            all_lower = all_lower and word[0].islower()
            end = token.end() - (1 if word.endswith(".") and not _is_initial(word) else 0)
        between = _BETWEEN_NAMES.match(text, token.end())
        if between is None and not comma_used:
            comma = _COMMA.match(text, token.end())
            if comma is not None:
                following = _NAME_TOKEN.match(text, comma.end())
                if following is not None and following.group()[0].isupper() and _could_be_name(following.group(), lower=False):
                    comma_used = True
                    between = comma
        if between is None:
            break
        cursor = between.end()
    if end is None or (all_lower and words < min_lower_words):
        return None
    return end


_DETERMINER = r"(?:my|our|the|a|an|this|that|his|her|their|your|one|another)"
_CALLED = r"(?:named|called|by\s{1,3}the\s{1,3}name\s{1,3}of|whose\s{1,3}name\s{1,3}is|name\s{1,3}is|name:)"
_NAME_TRIGGERS: tuple[tuple[re.Pattern[str], bool, int], ...] = (
    # "my patient john smith", "our pt JANE DOE", "the patient named maria": lowercase names too
    (_compile(rf"\b{_DETERMINER}\s{{1,3}}(?:patient|pt)\b\.?(?:\s{{1,3}}{_CALLED})?{_SEP}", re.IGNORECASE), True, 2),
    (_compile(rf"\b(?:patient|pt)\b\.?\s{{1,3}}{_CALLED}{_SEP}", re.IGNORECASE), True, 1),
    # "Patient Name: john smith", "pt's name is Ana", "Name: Bruce Wayne"
    (
        _compile(
            rf"(?:\b(?:patient|pt)(?:['’]s)?\s{{0,3}}name\b(?:\s{{1,3}}is)?|\bname\s{{1,3}}of\s{{1,3}}(?:the\s{{1,3}})?patient\b|\bname\b(?={_SEP}[:=])){_SEP}",
            re.IGNORECASE,
        ),
        True,
        1,
    ),
    # "Patient: maria lopez", "<b>Pt</b>: jane doe"
    (_compile(rf"\b(?:patient|pt)\b\.?(?:[\s*_~]|{_MARKUP}){{0,4}}[:=]{_SEP}", re.IGNORECASE), True, 2),
    # "pt Jane Doe", "Patient: Wayne, Bruce", "PATIENT JOHN SMITH"
    (_compile(rf"\b(?:patient|pt)\b\.?{_SEP}", re.IGNORECASE), False, 2),
    # "Mr. Smith", "mrs garcia", "Ms O'Brien" (a doctor naming themself as "Dr. Patel" is fine)
    (_compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Mister|mr|mrs|MRS|MISS|MISTER)\b\.?{_SEP}"), False, 2),
    (_compile(r"\b(?:mr|mrs|mister|Mr|Mrs|Mister)\b\.?\s{1,3}"), True, 1),  # not "MR" (imaging)
)
_AGE_SEX = _compile(
    r"(?P<gap>,?\s{1,3}(?:a\s{1,3})?)(?:1[01]\d|\d{1,2})\s{0,2}(?:y/?o\b|y\.o\.|yrs?\b|-?\s?years?[\s-]old\b|-?\s?year[\s-]old\b)?\s{0,2}"
    r"(?:(?-i:M|F)|male|female|man|woman)\b",
    re.IGNORECASE,
)
_TOKEN_OR_GAP = _compile(
    rf"(?P<word>[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_])){{0,40}}\.?)|(?P<comma>,)|(?P<gap>(?:[\s;:()\[\]|*_~\-–—]|{_MARKUP})+)|(?P<other>.)",
    re.DOTALL,
)
BEFORE_CHARS = 80


def _name_before(text: str, end: int) -> int | None:
    """Where a name written just before `end` starts ("Peter Parker, MRN 1", "Smith, John 67M"):
    capitalised or all-capital words only, at most MAX_NAME_WORDS and one comma."""
    window_start = max(0, end - BEFORE_CHARS)
    tokens = [(m.lastgroup, m.start() + window_start, m.group()) for m in _TOKEN_OR_GAP.finditer(text[window_start:end])]
    if tokens and tokens[0][0] == "word" and window_start > 0 and text[window_start - 1].isalpha():
        tokens = tokens[1:]  # the window began inside a word
    start = None
    words = 0
    commas = 0
    for kind, position, value in reversed(tokens):
        if kind == "gap":
            continue
        if kind == "comma":
            if start is None or commas:
                if start is None:
                    continue
                break
            commas += 1
            continue
        if kind != "word" or not (value[0].isupper() and _could_be_name(value, lower=False)):
            break
        start = position
        words += 1
        if words == MAX_NAME_WORDS:
            break
    return start


def _name_findings(text: str, labelled: list[PhiFinding]) -> Iterator[PhiFinding]:
    for pattern, lower, min_lower_words in _NAME_TRIGGERS:
        for match in pattern.finditer(text):
            end = _name_run(text, match.end(), lower=lower, min_lower_words=min_lower_words)
            if end is not None:
                yield PhiFinding("NAME", match.end(), end)
    for match in _AGE_SEX.finditer(text):
        start = _name_before(text, match.start())
        if start is not None:
            yield PhiFinding("NAME", start, match.start())
    for finding in labelled:
        label_start = _label_start(text, finding.start)
        start = _name_before(text, label_start)
        if start is not None and start < label_start:
            end = label_start
            while end > start and not (text[end - 1].isalpha() or text[end - 1] == "."):
                end -= 1
            yield PhiFinding("NAME", start, end)


_LABEL_WORDS = _compile(rf"(?:{_STRONG_LABEL}|{_DOB_LABEL}|\b(?:SSN|social(?:\s{{1,3}}security)?)\b)", re.IGNORECASE)


def _label_start(text: str, value_start: int) -> int:
    """The start of the label a labelled value follows (its last one within 40 characters)."""
    window_start = max(0, value_start - 40)
    last = None
    for match in _LABEL_WORDS.finditer(text, window_start, value_start):
        last = match
    return last.start() if last is not None else value_start


# --- putting them together ---------------------------------------------------------------------
def _regex_findings(kind: PhiKind, pattern: re.Pattern[str], text: str) -> Iterator[PhiFinding]:
    for match in pattern.finditer(text):
        yield PhiFinding(kind, match.start("value"), match.end("value"))


_SENTENCE_END = re.compile(r"[.!?]\s|\n")
_NEAR_LABELS: tuple[tuple[re.Pattern[str], re.Pattern[str], PhiKind], ...] = (
    (_LABEL_NEAR, _LONG_NUMBER, "MRN"),
    (_PHONE_LABEL, _PHONE_DIGITS, "PHONE"),
)


def _near_label_findings(text: str) -> Iterator[PhiFinding]:
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
_DIGIT = _compile(r"\d")


_PHONE_RUN = _compile(r"\+?\(?\d(?:[\d \t().\-/]{0,28}\d)?")
"""A stretch that may hold a phone number: digits and the punctuation numbers are written with, at most
30 characters (the longest written number is about 25), so a long run is taken in bounded pieces."""
MAX_PHONE_STRETCHES = 12
"""Stretches of one message given to phonenumbers; past these, any stretch with a phone number's digits
is taken for one. phonenumbers tries every way of splitting a stretch ("1/1/1/…" costs it 10 ms), so a
message of such stretches would otherwise cost it a second."""
_MIN_DIGITS_PAST_THE_LIMIT = 7


def _phone_findings(text: str) -> Iterator[PhiFinding]:
    """phonenumbers' matcher is by far the slowest detector (pure Python, run on every logged question)
    and slows more than in proportion on long runs of digits and punctuation, so it is given only the
    stretches that may hold a number, with enough digits for one, and a character of context either side
    (it refuses a number glued to letters)."""
    tried = 0
    for run in _PHONE_RUN.finditer(text):
        digits = len(_DIGIT.findall(run.group()))
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
    yield from _regex_findings("PHONE", _PHONE_SHAPE, text)


def _candidates(text: str) -> list[tuple[int, PhiFinding]]:
    """Every detector's findings with its rank: lower ranks win where findings overlap ("DOB 03/04/1961"
    is a DOB, not a DATE; a labelled record number beats a phone number it might parse as; a phone
    number beats a bare 6-digit run near "patient"). Most questions hold no digit, and so no number or
    date: only names and e-mail addresses are looked for in those."""
    if _DIGIT.search(text) is None:
        return [(2, f) for f in _email_findings(text)] + [(5, f) for f in _name_findings(text, [])]
    labelled = [
        *_regex_findings("SSN", _SSN_LABELLED, text),
        *_regex_findings("MRN", _MRN, text),
        *_regex_findings("MRN", _MRN_BEFORE, text),
        *_regex_findings("DOB", _DOB, text),
    ]
    ranked: list[tuple[int, PhiFinding]] = [(0, f) for f in labelled]
    ranked += [(1, f) for f in _regex_findings("SSN", _SSN_SHAPE, text)]
    ranked += [(2, f) for f in _email_findings(text)]
    ranked += [(3, f) for f in _phone_findings(text)]
    ranked += [(4, f) for f in _near_label_findings(text)]
    ranked += [(5, f) for f in _name_findings(text, labelled)]
    ranked += [(6, f) for f in _regex_findings("DATE", _DATE, text)]
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


_PATIENT_CONTEXT = _compile(
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
