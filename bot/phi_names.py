"""Patients' names in what members type: after "my patient", "pt", "Name:", Mr/Mrs/Ms, before an
age and sex ("Smith, 67M") or before a labelled identifier ("Peter Parker, MRN 1").

A name is taken in any case and any alphabet, the whole run of it ("Wayne,
Bruce", "José García", "McDonald"), while the words that follow "patient" in a
career question ("Patient Experience Officer", "my patient panel") and a doctor
naming themself ("Dr. Patel") are not names. Every scan is bounded in words and
characters, so it stays linear in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.phi_patterns import DOB_LABEL, MARKUP, SEP, STRONG_LABEL, PhiFinding, compile_bounded

# --- names -------------------------------------------------------------------------------------
_NAME_TOKEN = compile_bounded(r"(?<![^\W\d_'’])[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_])){0,40}(?![^\W\d_])\.?")
_BETWEEN_NAMES = compile_bounded(rf"(?:[ \t*_~]|{MARKUP}){{1,6}}")
_COMMA = compile_bounded(rf"(?:[ *_~]|{MARKUP}){{0,4}},(?:[ *_~]|{MARKUP}){{1,4}}")
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
    (compile_bounded(rf"\b{_DETERMINER}\s{{1,3}}(?:patient|pt)\b\.?(?:\s{{1,3}}{_CALLED})?{SEP}", re.IGNORECASE), True, 2),
    (compile_bounded(rf"\b(?:patient|pt)\b\.?\s{{1,3}}{_CALLED}{SEP}", re.IGNORECASE), True, 1),
    # "Patient Name: john smith", "pt's name is Ana", "Name: Bruce Wayne"
    (
        compile_bounded(
            rf"(?:\b(?:patient|pt)(?:['’]s)?\s{{0,3}}name\b(?:\s{{1,3}}is)?|\bname\s{{1,3}}of\s{{1,3}}(?:the\s{{1,3}})?patient\b|\bname\b(?={SEP}[:=])){SEP}",
            re.IGNORECASE,
        ),
        True,
        1,
    ),
    # "Patient: maria lopez", "<b>Pt</b>: jane doe"
    (compile_bounded(rf"\b(?:patient|pt)\b\.?(?:[\s*_~]|{MARKUP}){{0,4}}[:=]{SEP}", re.IGNORECASE), True, 2),
    # "pt Jane Doe", "Patient: Wayne, Bruce", "PATIENT JOHN SMITH"
    (compile_bounded(rf"\b(?:patient|pt)\b\.?{SEP}", re.IGNORECASE), False, 2),
    # "Mr. Smith", "mrs garcia", "Ms O'Brien" (a doctor naming themself as "Dr. Patel" is fine)
    (compile_bounded(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Mister|mr|mrs|MRS|MISS|MISTER)\b\.?{SEP}"), False, 2),
    (compile_bounded(r"\b(?:mr|mrs|mister|Mr|Mrs|Mister)\b\.?\s{1,3}"), True, 1),  # not "MR" (imaging)
)
_AGE_SEX = compile_bounded(
    r"(?P<gap>,?\s{1,3}(?:a\s{1,3})?)(?:1[01]\d|\d{1,2})\s{0,2}(?:y/?o\b|y\.o\.|yrs?\b|-?\s?years?[\s-]old\b|-?\s?year[\s-]old\b)?\s{0,2}"
    r"(?:(?-i:M|F)|male|female|man|woman)\b",
    re.IGNORECASE,
)
_TOKEN_OR_GAP = compile_bounded(
    rf"(?P<word>[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_])){{0,40}}\.?)|(?P<comma>,)|(?P<gap>(?:[\s;:()\[\]|*_~\-–—]|{MARKUP})+)|(?P<other>.)",
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


def name_findings(text: str, labelled: list[PhiFinding]) -> Iterator[PhiFinding]:
    """Names after a trigger ("my patient", "Name:", "Mrs"), before an age and sex, and before the label
    of one of the `labelled` record numbers, dates of birth or SSNs already found."""
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


_LABEL_WORDS = compile_bounded(rf"(?:{STRONG_LABEL}|{DOB_LABEL}|\b(?:SSN|social(?:\s{{1,3}}security)?)\b)", re.IGNORECASE)


def _label_start(text: str, value_start: int) -> int:
    """The start of the label a labelled value follows (its last one within 40 characters)."""
    window_start = max(0, value_start - 40)
    last = None
    for match in _LABEL_WORDS.finditer(text, window_start, value_start):
        last = match
    return last.start() if last is not None else value_start
