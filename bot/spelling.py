"""Members' typos, mended toward the guide's own words before retrieval.

A misspelt word ("committe", "interveiw") is split by the model's tokenizer
into pieces that mean little and matches nothing in BM25, so a covered question
with one typo reads as off-topic and is refused. A word is mended only when it
is no English word (pyspellchecker's dictionary) and not one of the guide's or
the question banks' own words, and only into one of those words that is a
keystroke or two away: a correctly spelt word the guide never uses ("wages",
"tuition") is left as it is, so mending never makes an off-topic question look
covered. The member's own wording is what the answer shows and the log keeps.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

MIN_LENGTH = 4
"""Shorter words are too often abbreviations ("pts", "thx") to mend safely."""
LONG_WORD = 7
"""From this length a word may be two edits from its mend; shorter ones, one."""

MIN_UNKNOWN_LENGTH = 3
TYPO_MAX_COUNT = 5
TYPO_RATIO = 10
TYPO_MIN_TARGET = 20

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


@cache
def english_words() -> frozenset[str]:
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(distance=1).word_frequency.keys())


def words_of(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


@dataclass(frozen=True)
class Speller:
    """Mends the words of a question that are neither English nor the guide's, using the guide's vocabulary."""

    vocabulary: Counter[str]
    english: frozenset[str]
    as_typed: frozenset[str] = frozenset()
    """Words never mended that are still nobody's (`unknown_share`): clinical shorthand."""

    @classmethod
    def from_texts(
        cls, texts: Iterable[str], bank: Iterable[str] = (), keep: Iterable[str] = (), as_typed: Iterable[str] = ()
    ) -> Speller:
        """The guide's words, the words in `keep` (clippings, expanded later or kept as typed), and the question banks' words
        that are not themselves typos; the words of `as_typed` are never mended, and stay unknown.

        The banks teach words members use that the guide does not ("salary", "CMIO",
        "hospitalist"), so that they are never mended into a guide word; but they also
        hold typos written on purpose ("chief medical oficer"), which as known words
        would stop the same typo being mended in a member's question. A bank word is
        taken for such a typo when it is no English word, never written as an acronym,
        rare (`TYPO_MAX_COUNT`), and a keystroke or two from a word with its first
        letter that the guide and banks use far more (`TYPO_RATIO`, `TYPO_MIN_TARGET`).
        """
        english = english_words()
        vocabulary = Counter(w for text in texts for w in words_of(text))
        vocabulary.update(w.lower() for w in keep)
        bank_words: Counter[str] = Counter()
        acronyms: set[str] = set()
        for text in bank:
            for word in _WORD.findall(text):
                bank_words[word.lower()] += 1
                if sum(ch.isupper() for ch in word) > 1:
                    acronyms.add(word.lower())
        suspects = {
            w for w, n in bank_words.items() if n <= TYPO_MAX_COUNT and w not in vocabulary and w not in english and w not in acronyms
        }
        known = vocabulary + Counter({w: n for w, n in bank_words.items() if w not in suspects})
        probe = cls(known, english)
        typos = set()
        for word in suspects:
            target = probe.mend(word)
            if target and target[0] == word[0] and known[target] >= max(TYPO_MIN_TARGET, TYPO_RATIO * bank_words[word]):
                typos.add(word)
        known.update({w: bank_words[w] for w in suspects - typos})
        return cls(known, english, frozenset(w.lower() for w in as_typed))

    def mend(self, word: str) -> str | None:
        """The guide's word `word` was meant to be, or None when it needs no mending or none is close."""
        lower = word.lower()
        if len(lower) < MIN_LENGTH or lower in self.vocabulary or lower in self.english or lower in self.as_typed or "'" in lower:
            return None
        if sum(ch.isupper() for ch in word) > 1:  # an acronym ("CNIO", "VPMAs") or a name, not a typo
            return None
        limit = 2 if len(lower) >= LONG_WORD else 1
        candidates = process.extract(lower, self.vocabulary.keys(), scorer=OSA.distance, score_cutoff=limit, limit=None)
        if not candidates:
            return None
        best = min(candidates, key=lambda c: (c[1], c[0][0] != lower[0], -self.vocabulary[c[0]], c[0]))
        return best[0]

    def unknown_share(self, text: str, stop_words: frozenset[str]) -> tuple[int, float]:
        """How many of the text's words (of three letters or more, not stop words) no one knows, and their share:
        in lower case (a capitalised one is a name: "Dr. Okonkwo", "Geisinger"), neither English nor the
        guide's or the banks' words. Run after `correct`, what is left is no typo of a known word."""
        words = [w for w in _WORD.findall(text) if len(w) >= MIN_UNKNOWN_LENGTH and w.lower() not in stop_words]
        unknown = [w for w in words if w.islower() and w not in self.english and w not in self.vocabulary]
        return len(unknown), len(unknown) / len(words) if words else 0.0

    def correct(self, text: str) -> str:
        """`text` with each mendable word replaced by its mend, capitalised where the word was."""

        def mended(match: re.Match[str]) -> str:
            word = match.group(0)
            mend = self.mend(word)
            if mend is None:
                return word
            return mend.capitalize() if word[0].isupper() else mend

        return _WORD.sub(mended, text)
