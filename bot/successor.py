"""Questions that ask what comes after or before a step of the path ("what's the next step after being a medical
director?", "which role sits above medical director?", "what role comes before VPMA?").

The sentence ranker reads the step's name, and the step's own section holds it: two blind writers' 60 such questions
mostly led with the named step's own sentence ("A Medical Director role often serves as the first formal step …"),
which says what the step is, not what comes after it. A guide is written in the order its path is walked, so a
question that asks what comes after a section's heading leads with the next section of its document (the VPMA's after
the Medical Director's), and one that asks what comes before it with the one before, skipping the sections that hold
it or that it holds: that section's sentences are candidates however it ranked (`bot.retrieval.search`), and lead
(`AnswerEngine.compose`). A question of what comes next that names no step after "after" ("been med dir for 4 yrs,
whats next on the path to CMO") asks after the one step its message names. The order is the document's, not the
path's where the two part: after the VPMA the writers named the final stage of networking and search, the next
section is the CQO's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.query import question_sentences
from index.lexical import tokenize_one

_CLAUSE = r"(?:(?!\s-\s)[^,.;:?!—–]){1,60}"
_AROUND = re.compile(
    rf"\b(?P<after>after|above|beyond|past|up\s+from|on\s+from|(?:step|move|role|rung|stage)\s+from)\s+(?P<a>{_CLAUSE})"
    rf"|\b(?:comes?|come|right|step|role|job|position|rung|stage)\s+before\s+(?P<b>{_CLAUSE})",
    re.IGNORECASE,
)
"""What follows "after", "above" or "the next step from", or "comes before", up to the end of its clause."""
_NEXT = re.compile(
    r"\bnext\s+(?:\w+\s+)?(?:step|steps|role|rung|move|level|job|title|stage|position|up)\b|\bwhat'?s\s+next\b|\bwhats\s+next\b"
    r"|\bnow\s+what\b|\bwhat\s+(?:comes|do\s+i\s+do|should\s+i\s+do)\s+next\b|\bnext\s+up\s+the\s+ladder\b",
    re.IGNORECASE,
)
"""A question of what comes next that names no step after "after": the step is the one the message says the member
holds ("med dir for 4 yrs, I own the dept operating budget. whats next up the ladder?")."""
_GENERIC = frozenset(tokenize_one("role roles position positions job jobs"))
"""Words a heading shares with every step ("Medical Director Roles"), which name none of them."""
ABBREVIATION = (3, 4)
"""A word this long that begins a heading's word stands for it ("med dir" for "Medical Director"); a longer one is a
word of its own ("direct" is not "director")."""


@dataclass(frozen=True)
class Section:
    key: str
    document: str
    trail: tuple[str, ...]
    """Its headings from the document's top down."""
    words: frozenset[str]
    """The words of its own heading that name it."""


def sections_in_order(sections: Iterable[tuple[str, str, tuple[str, ...]]]) -> tuple[Section, ...]:
    """The documents' sections with a heading, as (key, document, heading trail) in the order they come, each once."""
    seen: dict[str, Section] = {}
    for key, document, trail in sections:
        if trail and key not in seen:
            seen[key] = Section(key, document, trail, frozenset(tokenize_one(trail[-1])) - _GENERIC)
    return tuple(seen.values())


def _names(words: set[str], heading: frozenset[str]) -> bool:
    return bool(heading) and all(
        w in words or any(ABBREVIATION[0] <= len(q) <= ABBREVIATION[1] and w.startswith(q) for q in words) for w in heading
    )


def _names_in_a_row(tokens: Sequence[str], heading: frozenset[str]) -> bool:
    """Whether words side by side name the heading: a message's words taken together can name one by accident
    ("chaired our quality improvement committee … chief medical officer" holds every word of "Chief Quality Officer")."""
    width = len(heading)
    return any(_names(set(tokens[i : i + width]), heading) for i in range(len(tokens) - width + 1))


def _related(a: Section, b: Section) -> bool:
    """Whether one section holds the other (its trail begins the other's)."""
    shorter, longer = sorted((a.trail, b.trail), key=len)
    return longer[: len(shorter)] == shorter


def section_asked_around(question: str, sections: Sequence[Section]) -> str | None:
    """The section the question asks for as what comes after or before a step its heading names, or as what comes
    next after the one step its message names; None when it asks none."""
    sentences = question_sentences(question)
    for match in (m for sentence in sentences for m in _AROUND.finditer(sentence)):
        words = set(tokenize_one(match.group("a") or match.group("b")))
        named = next((n for n, s in enumerate(sections) if _names(words, s.words)), None)
        if named is None:
            continue
        return _beside(sections, named, 1 if match.group("after") else -1)
    if any(_NEXT.search(s) for s in sentences):
        tokens = tokenize_one(question)
        held = [n for n, s in enumerate(sections) if _names_in_a_row(tokens, s.words)]
        if len(held) == 1:
            return _beside(sections, held[0], 1)
    return None


def _beside(sections: Sequence[Section], named: int, step: int) -> str | None:
    """The section `step` away from the named one in its document, past those that hold it or that it holds."""
    n = named + step
    while 0 <= n < len(sections) and _related(sections[n], sections[named]):
        n += step
    if 0 <= n < len(sections) and sections[n].document == sections[named].document:
        return sections[n].key
    return None
