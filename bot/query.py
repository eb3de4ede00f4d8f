"""Turning what a member typed into text fit for retrieval."""

from __future__ import annotations

import re
import unicodedata

_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]{0,200}>")
_WS = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
_PUNCT = r"[\s,!.:;~—–-]*"
_GREETING = re.compile(
    r"^\s*(?:(?:hi|hey|hello|hiya|howdy|yo|greetings|morning|good\s+(?:morning|afternoon|evening|day)|@?guide\s?bot|@bot)\b"
    r"(?:\s+(?:there|all|everyone|everybody|folks|team|guys|y'all|guidebot|bot))?" + _PUNCT + r")+",
    re.IGNORECASE,
)
_PREFACE = re.compile(
    r"^\s*(?:(?:thanks|thank\s+you)\s+in\s+advance|quick\s+(?:question|q|one)(?:\s+for\s+(?:you|y'all|everyone|the\s+group))?|question|q)"
    r"\s*[:,!.—–-]" + _PUNCT,
    re.IGNORECASE,
)
_FILLER = re.compile(
    r"^\s*(?:(?:h+m+|u+m+|u+h+|ok(?:ay)?|so)[\s,!.…]+)+"
    r"|^\s*i\s+was\s+(?:just\s+)?wondering\b(?:\s+(?:if|whether))?[\s,:…]+",
    re.IGNORECASE,
)
"""Sounds and words a member thinks aloud with before asking ("hmm,", "ok so", "I was wondering,")."""
_LEAD_IN = re.compile(
    r"^\s*(?!(?:which|what|who|whom|whose|how|why|when|where|do|does|did|is|are|can|could|should|would|will)\b)"
    r"[^?.!:]{0,60}?\b(?:wonder(?:ed|ing)?|curious|ask(?:ed|ing)?|question)\b[^?.!:]{0,30}:\s+(?=\S)",
    re.IGNORECASE,
)
"""A clause that only announces the question, up to its colon ("saw this article and wondered: …",
"my mentee asked me over coffee: …"): what follows the colon is what is asked. A clause that is itself a
question ("Which question do boards ask: …?") is not an announcement."""
_SIGNATURE = re.compile(
    r"\s*(?:sent\s+from\s+my\s+(?:iphone|ipad|android|phone|mobile|smartphone|tablet|blackberry|(?:samsung|galaxy|pixel)(?:\s+\w+)?)"
    r"|get\s+outlook\s+for\s+\w+|sent\s+from\s+(?:mail|outlook)\s+for\s+\w+)\W*$", re.IGNORECASE
)
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_THANKS = re.compile(
    r"(?:" + _PUNCT + r"\b(?:thanks|thank\s+you|thx|ty|tia|cheers|much\s+appreciated|appreciate\s+it|pls|please"
    r"|in\s+a\s+nutshell|briefly|in\s+short|in\s+brief|tl;?dr|asap|lol|haha)\b"
    r"(?:\s+(?:so\s+much|a\s+lot|very\s+much|in\s+advance|all|everyone|guys|team))*" + _PUNCT + r"\??" + _PUNCT + r")+$",
    re.IGNORECASE,
)
_ACKNOWLEDGEMENT = re.compile(r"^\s*(?:ok(?:ay)?|cool|great|got\s+it|nice)\W*$", re.IGNORECASE)
PLEASANTRY_CHARS = 60
"""Greetings and thanks are looked for this far into each end only: they are short, and a long paste stays linear."""
_EMOJI = frozenset({"So", "Sk"})
_EMOJI_JOINERS = frozenset({"\u200d", "\ufe0f", "\ufe0e"})


def clean_question(text: str, max_chars: int) -> str:
    """Strip HTML tags and control characters; keep at most `max_chars`.

    Only what no platform means as words is removed here. Each platform's own markup
    (Slack's `<@U…>`, `<!channel>`, `<url|label>`; Teams' `<at>`) is read by its adapter,
    which alone knows what it means, before the text reaches the core. A long paste is
    cut at a word boundary.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _HTML_TAG.sub(" ", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = _WS.sub(" ", text).strip()
    if len(text) > max_chars:
        cut = text[:max_chars]
        text = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return text


def without_pleasantries(text: str) -> str:
    """The question without the greeting, thanks, phone signature and emoji around it, for retrieval only.

    "hey! what does a cmo do? thanks 🙏" asks what "what does a cmo do?" asks, but
    "hey" and "thanks" read as the question's own content words: the guide's topic
    would then be left out of the dense query (`bot.retrieval.without_topic`), and
    what remained ("hey … thanks") matches nothing. The member's own wording is
    what the answer shows and the log keeps. A message that is nothing but small
    talk is kept whole.
    """
    return _stripped(text) or text


def is_small_talk(text: str) -> bool:
    """A greeting, thanks or acknowledgement and nothing else ("hi", "thanks! 🙏", "ok")."""
    return not _stripped(text) or bool(_ACKNOWLEDGEMENT.match(text))


def _stripped(text: str) -> str:
    kept = "".join(" " if unicodedata.category(ch) in _EMOJI or ch in _EMOJI_JOINERS else ch for ch in text)
    head, kept = kept[:PLEASANTRY_CHARS], kept[PLEASANTRY_CHARS:]
    for pattern in (_GREETING, _FILLER, _PREFACE, _LEAD_IN, _GREETING, _FILLER):
        head = pattern.sub("", head, count=1)
    kept = head + kept
    body, tail = kept[:-PLEASANTRY_CHARS], kept[-PLEASANTRY_CHARS:]
    return _WS.sub(" ", body + _THANKS.sub("", _SIGNATURE.sub("", tail))).strip()


SHOUTED_SHARE = 0.8


def unshouted(text: str) -> str:
    """A question typed in capitals, in lower case: "WHAT DOES A CMO DO" would read as a row of acronyms.
    Lower case is safe, as retrieval reads the documents' acronyms in any case ("cmo", "vpma")."""
    letters = [ch for ch in text if ch.isalpha()]
    shouted = len(text.split()) >= 3 and letters and sum(ch.isupper() for ch in letters) >= SHOUTED_SHARE * len(letters)
    return text.lower() if shouted else text


TYPOGRAPHY = str.maketrans({"‘": "'", "’": "'", "ʼ": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-", "‑": "-"})
"""Curly quotes and dashes as straight ones: phones and word processors type them, the guide and banks mix both."""


def for_retrieval(text: str) -> str:
    """What retrieval reads of a cleaned question: straight quotes and dashes (phones type "what’s"), no links (their
    words are no one's question), no small talk around it, no shouting."""
    return unshouted(without_pleasantries(_URL.sub(" ", text.translate(TYPOGRAPHY))))


def focus_of(text: str, min_words: int = 25) -> str | None:
    """The asking part of a long, chatty message: its last question sentence.

    Members write context first and ask last ("I'm a hospitalist eight years
    out … which degree do people usually pick?"); the context alone would pull
    retrieval toward whatever the member mentioned in passing.
    """
    if len(text.split()) < min_words:
        return None
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    if len(sentences) < 2:
        return None
    questions = [s for s in sentences if s.rstrip().endswith("?")]
    focus = questions[-1] if questions else sentences[-1]
    return focus if len(focus.split()) >= 3 else None


ANAPHORA = frozenset({"it", "its", "that", "this", "those", "these", "they", "them", "their", "she", "her", "he", "him", "his", "there", "so"})
"""Words that point back to an earlier sentence: an asking sentence holding one is not a question on its own."""
VAGUE = frozenset({"good", "bad", "idea", "ok", "okay", "thoughts", "sense", "worth", "right", "wrong", "better", "best", "fine", "true"})
"""Words that judge without naming what is judged ("Good idea or not?")."""
_CONTENT_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


_CLAUSE_BREAK = re.compile(r"\s+-+\s+|[:;]\s+")
"""Where a sentence turns from context to the question ("nervous about the politics - does the CMO report to …?")."""


def _content_words(text: str, stop_words: frozenset[str]) -> int:
    return sum(1 for w in _CONTENT_WORD.findall(text.lower()) if w not in stop_words and w not in VAGUE)


def asking_sentence(text: str, stop_words: frozenset[str]) -> str | None:
    """The sentence of a message of several that asks, when it is a question on its own; None otherwise.

    "I'm on the CMO path. Who won the Super Bowl?" asks about football: the
    context sentence alone would make the message read as covered. But most
    asking sentences after context lean on it ("What should I tell her?",
    "Why should I do that?", "Good idea or not?"), and those are not questions
    on their own: only one with two words of its own content and no word
    pointing back is returned. A message of several questions is several
    questions, not context and a question: it is judged whole. Context can run into
    the asking sentence too, before a dash, colon or semicolon; the clause after it
    asks, when it has two content words of its own.
    """
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    if len(sentences) < 2:
        return None
    questions = [s for s in sentences if s.rstrip().endswith("?")]
    if len(questions) > 1:
        return None
    ask = (questions or sentences)[-1]
    clauses = _CLAUSE_BREAK.split(ask)
    if len(clauses) > 1 and _content_words(clauses[-1], stop_words) >= 2:
        ask = clauses[-1]
    if any(w in ANAPHORA or w.split("'")[0] in ANAPHORA for w in _CONTENT_WORD.findall(ask.lower())):
        return None
    return ask if _content_words(ask, stop_words) >= 2 else None
