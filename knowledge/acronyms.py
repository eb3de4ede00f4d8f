"""Acronyms the documents define ("Vice President of Medical Affairs (VPMA)").

They are found at index time, so a new document's acronyms are known without
code changes, and used to expand questions: "Can a DO become a CMO?" searches
for "Doctor of Osteopathic Medicine" and "Chief Medical Officer".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from knowledge.stopwords import ENGLISH_STOP_WORDS

_DEFINITION = re.compile(r"\(([A-Z][A-Za-z&]{0,9}[A-Z])\)")
_WORD = re.compile(r"[A-Za-z][\w’'&-]*")
_CONNECTORS = {"of", "and", "for", "the", "in", "&"}


def _letters(acronym: str) -> str:
    return "".join(ch for ch in acronym.lower() if ch.isalpha())


def _is_subsequence(needle: str, haystack: str) -> bool:
    it = iter(haystack)
    return all(ch in it for ch in needle)


def _long_form(words: list[str], acronym: str) -> str | None:
    letters = _letters(acronym)
    for n in range(1, min(len(words), len(letters) + 4) + 1):
        candidate = words[-n:]
        initials = "".join(w[0].lower() for w in candidate)
        if initials[0] == letters[0] and _is_subsequence(letters, initials) and n >= len(letters) - 1:
            return " ".join(candidate)
    run: list[str] = []
    for word in reversed(words):
        if word[0].isupper() or (run and word.lower() in _CONNECTORS):
            run.insert(0, word)
        else:
            break
    while run and run[0].lower() in _CONNECTORS:
        run.pop(0)
    return " ".join(run) if len(run) >= 2 else None


def find_definitions(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _DEFINITION.finditer(text):
        acronym = match.group(1)
        before = _WORD.findall(text[max(0, match.start() - 160) : match.start()])
        long_form = _long_form(before, acronym)
        if long_form and long_form.lower() != acronym.lower():
            found.setdefault(acronym, long_form)
    return found


_NAME_RUN = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:(?:of|for|and|the)\s+)?[A-Z][a-z]+){2,}")


def find_initialisms(text: str) -> dict[str, str]:
    """Names of three or more capitalised words the text never abbreviates: members type their initials
    ("AAPL" for the American Association for Physician Leadership)."""
    found: dict[str, str] = {}
    for match in _NAME_RUN.finditer(text):
        words = match.group(0).split()
        if match.start() == 0 or text[: match.start()].rstrip().endswith((".", "!", "?")):
            words = words[1:]  # a sentence's first word is capitalised anyway
        while words and words[0].lower() in _CONNECTORS:
            words.pop(0)
        content = [w for w in words if w.lower() not in _CONNECTORS]
        if len(content) >= 3:
            found.setdefault("".join(w[0] for w in content).upper(), " ".join(words))
    return found


def collect_acronyms(texts: Iterable[str]) -> dict[str, str]:
    acronyms: dict[str, str] = {}
    implied: dict[str, str] = {}
    for text in texts:
        for acronym, long_form in find_definitions(text).items():
            acronyms.setdefault(acronym, long_form)
        for acronym, long_form in find_initialisms(text).items():
            implied.setdefault(acronym, long_form)
    named = {long_form.lower() for long_form in acronyms.values()}
    for acronym, long_form in implied.items():
        if acronym not in acronyms and long_form.lower() not in named:
            acronyms[acronym] = long_form
    return acronyms


_TOKEN = re.compile(r"[A-Za-z][A-Za-z&]*")


def expand_acronyms(question: str, acronyms: dict[str, str]) -> str:
    """Append the long form after each acronym the member typed.

    Uppercase is always an acronym ("DO"); lowercase only when the word is not
    ordinary English ("vpma", "mba" yes; "do" no), so the verb stays a verb.
    """
    if not acronyms or question.isupper():
        return question
    return _expand_acronyms(question, tuple(acronyms.items()))


@functools.lru_cache(maxsize=1024)
def _expand_acronyms(question: str, items: tuple[tuple[str, str], ...]) -> str:
    acronyms = dict(items)
    by_lower = {a.lower(): a for a in acronyms}
    out: list[str] = []
    last = 0
    for match in _TOKEN.finditer(question):
        token = match.group(0)
        key = token[:-1] if token.endswith("s") and token[:-1].lower() in by_lower else token
        acronym = by_lower.get(key.lower())
        if acronym is None:
            continue
        typed_as_acronym = key == acronym or key.isupper()
        if not typed_as_acronym and (key.lower() in ENGLISH_STOP_WORDS or len(key) < 3 and key.islower()):
            continue
        out.append(question[last : match.end()])
        out.append(f" ({acronyms[acronym]})")
        last = match.end()
    out.append(question[last:])
    return "".join(out)


ABBREVIATIONS = {
    "med": "medical",
    "admin": "administration",
    "mgmt": "management",
    "exec": "executive",
    "execs": "executives",
    "doc": "doctor",
    "docs": "doctors",
    "vp": "vice president",
    "vps": "vice presidents",
    "regs": "regulations",
    "reqs": "requirements",
    "cert": "certification",
    "certs": "certifications",
    "creds": "credentials",
    "cred": "credibility",
    "yr": "year",
    "yrs": "years",
    "org": "organization",
    "orgs": "organizations",
    "dept": "department",
    "depts": "departments",
    "hosp": "hospital",
    "mgr": "manager",
    "mgrs": "managers",
    "ops": "operations",
    "biz": "business",
    "pt": "patient",
    "pts": "patients",
    "comms": "communication",
    "cmte": "committee",
    "cmtes": "committees",
    "cttee": "committee",
    "intro": "introduction",
    "rca": "root cause analysis",
    "rcas": "root cause analyses",
}
"""Clipped words members type in chat ("chief med officer", "admin roles", "regs", "yrs"): plain English,
not the guide's, so that the model and BM25 (which know neither clipping) read the word it stands for."""
CLINICAL_SHORTHAND = frozenset(
    {
        "surg", "surgs", "gensurg", "neurosurg", "onco", "heme", "hemeonc", "endo", "nephro", "neph", "neuro", "cardio",
        "cardiol", "gastro", "pulm", "pulmo", "crit", "derm", "rheum", "ortho", "ophtho", "optho", "ophth", "psych",
        "peds", "pedi", "anesth", "anes", "rads", "obgyn", "geri", "rehab", "palli", "nocturnist", "nocturnists",
        "nicu", "picu", "sicu", "micu", "cvicu", "pacu", "tele", "appt", "appts",
    }
)
"""Clinicians' clippings for their specialty, unit or schedule ("gen surg", "onco", "endo", "NICU", "appt"): neither
English nor the guide's, so the speller took them for typos of its words ("surg" became "sure", "onco" "once",
"endo" "end", "nicu" "nice", "appt" "apps"). They say who is asking, not what: kept as typed, and not expanded."""
TREATMENT_SHORTHAND = frozenset(
    {
        "meds", "afib", "aflutter", "anticoag", "anticoags", "gdmt", "copd", "hyperk", "hypok", "stemi", "nstemi", "cabg",
        "nsaid", "nsaids", "ssri", "ssris", "snri", "snris", "ppis", "esrd", "abgs", "ekgs", "ecgs", "rvus",
    }
)
"""Clinicians' clippings for drugs, diagnoses and tests: no typos, so never mended ("htn first line meds" had become "…
first line med", read as "medical", and was answered at 0.96 with the medical director's "first formal step"); but
unlike the specialty clippings, words neither the guide nor the banks know, so they count as unknown words."""
INITIALISMS = {
    "UR": "utilization review",
    "UM": "utilization management",
    "VBP": "value-based purchasing",
    "EBM": "evidence-based medicine",
}
"""Hospital shorthand for what the guide spells out ("the UR committee"), read only in capitals: "ur" in chat
is "your", "um" a pause."""

_LIFE_SCIENCES = re.compile(r"\blife[\s-]+sciences?\b", re.IGNORECASE)
"""The industry's own name for the guide's "pharmaceutical or biotechnology company", as search firms and public pages
write it: "science" alone leans out of scope (the off-topic bank's medical science liaisons), so "What does a CMO at
a life sciences company do?" was refused (0.04) while "… at a biotech do?" was answered."""

_ABBREVIATION = re.compile(r"\b(" + "|".join(ABBREVIATIONS) + r")\b", re.IGNORECASE)
_INITIALISM = re.compile(r"\b(" + "|".join(INITIALISMS) + r")\b")
_DOTTED = re.compile(r"\b(?:[A-Za-z]\.){2,}(?:[A-Za-z]\b)?")
"""Initialisms typed with stops ("C.M.O.", "M.B.A", "v.p. of med affairs"). In capitals any run is one; in lower
case only a run that spells a name or a known abbreviation, so "e.g.", "i.e." and "a.m." stay."""
_SPACED = re.compile(r"(?<![\w'])(?:[A-Za-z] ){2,6}[A-Za-z](?![\w'])")
"""Initialisms dictated or typed letter by letter ("what is a v p m a responsible for", "m b a or m h a"): joined
where the letters spell one of the documents' names of three letters or more."""
TOP_PHYSICIAN = "Chief Medical Officer"
_TOP_PHYSICIAN = re.compile(
    r"\b(?:(?:top|head|senior[- ]?most|most\s+senior|highest[- ]ranking)\s+(?:medical|physician|doctor|clinical)\s+"
    r"(?:leader|executive|officer|administrator)(?P<plural>s?)\b"
    r"|(?:top|head)\s+(?:doctor|physician)(?=\s+(?:job|role|position|post|spot|slot|seat|chair|at|in|of|for)\b)"
    r"|(?<=\bthe\s)top\s+(?:doctor|physician)\b(?!-))",
    re.IGNORECASE,
)
"""Members describe the top physician job rather than name it ("the top physician exec slot", "top doc at a
hospital", "the head medical executive"): read as the name, where the documents define it, so that such a
question is retrieved and judged as "CMO" is. "Top doctors" (the best ones) and "chief physician executive" (a
title of its own) are not descriptions."""


def canonical_names(question: str, acronyms: dict[str, str]) -> str:
    """Every name the documents define, spelled as its acronym: "Chief Medical Officers" → "CMOs".

    A question reads the same to retrieval and abstention whichever way the
    member spells the name ("CMO", "C.M.O.", "chief medical officer", "chief med officer");
    `expand_acronyms` then adds the long form back once.
    """
    return _canonical_names(question, tuple(acronyms.items()))


@functools.lru_cache(maxsize=1024)
def _canonical_names(question: str, items: tuple[tuple[str, str], ...]) -> str:
    """`canonical_names`, kept per question: retrieval, the dense text and the focus rules each ask for it."""
    acronyms = dict(items)
    text = _DOTTED.sub(lambda m: _undotted(m.group(0), acronyms), question)
    text = _SPACED.sub(lambda m: _joined(m.group(0), acronyms), text)
    text = _ABBREVIATION.sub(lambda m: ABBREVIATIONS[m.group(1).lower()], text)
    text = _LIFE_SCIENCES.sub("pharmaceutical and biotechnology", text)
    text = _INITIALISM.sub(lambda m: INITIALISMS[m.group(1)], text)
    pattern, by_long_form = _long_forms(items)
    if _squeeze(TOP_PHYSICIAN) in by_long_form:
        text = _TOP_PHYSICIAN.sub(lambda m: TOP_PHYSICIAN + (m.group("plural") or ""), text)
    if pattern is None:
        return text
    return pattern.sub(lambda m: by_long_form[_squeeze(m.group("name"))] + m.group("plural"), text)


def _undotted(run: str, acronyms: dict[str, str]) -> str:
    letters = run.replace(".", "")
    if letters.isupper():
        return letters
    if letters.upper() in acronyms or letters.upper() in INITIALISMS:
        return letters.upper()
    return letters if letters.lower() in ABBREVIATIONS else run


def _joined(run: str, acronyms: dict[str, str]) -> str:
    """`run` of single letters with the longest stretch of it that spells a name joined ("a v p m a": "a VPMA")."""
    letters = run.split()
    for size in range(len(letters), 2, -1):
        for start in range(len(letters) - size + 1):
            joined = "".join(letters[start : start + size]).upper()
            if joined in acronyms:
                return " ".join([*letters[:start], joined, *letters[start + size :]])
    return run


def _squeeze(text: str) -> str:
    return " ".join(text.lower().split())


@functools.lru_cache(maxsize=8)
def _long_forms(items: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One pattern for every multi-word long form (longest first), optionally followed by its acronym in brackets."""
    by_long_form = {_squeeze(long_form): acronym for acronym, long_form in items if len(long_form.split()) >= 2}
    if not by_long_form:
        return None, {}
    names = "|".join(r"\s+".join(re.escape(w) for w in name.split()) for name in sorted(by_long_form, key=len, reverse=True))
    acronym = "|".join(re.escape(a) for a in sorted({a for a in by_long_form.values()}, key=len, reverse=True))
    return re.compile(rf"\b(?P<name>{names})(?P<plural>s?)(?:\s*\((?:{acronym})\))?(?!\w)", re.IGNORECASE), by_long_form


def topic_terms(acronyms: dict[str, str], titles: Iterable[str]) -> list[str]:
    """Acronyms (and their long forms) that name a document's topic: "CMO" in a CMO guide.

    Nearly every question mentions the topic, so it says nothing about which
    section answers; retrieval leaves these words out of the dense query.
    """
    lowered = [t.lower() for t in titles]
    terms: list[str] = []
    for acronym, long_form in acronyms.items():
        if any(long_form.lower() in title or re.search(rf"\b{re.escape(acronym.lower())}\b", title) for title in lowered):
            terms.extend([acronym, long_form])
    return terms


def without_terms(text: str, terms: Iterable[str]) -> str:
    pattern = _terms_pattern(tuple(terms))
    if pattern is None:
        return text
    return _SPACES.sub(" ", pattern.sub(" ", text)).strip()


_SPACES = re.compile(r"\s+")


@functools.lru_cache(maxsize=8)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    ordered = sorted(terms, key=len, reverse=True)
    if not ordered:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(t) for t in ordered) + r")(?:s|'s|’s)?\b", re.IGNORECASE)
