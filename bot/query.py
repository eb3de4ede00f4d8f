"""Turning what a member typed into text fit for retrieval."""

from __future__ import annotations

import functools
import re
import unicodedata
from itertools import pairwise

from knowledge.stopwords import ENGLISH_STOP_WORDS

_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]{0,200}>")
_WS = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
_NEVER_ENDS = re.compile(r"(?:^|\s)(?:vs|v|e\.g|i\.e|cf|approx|dr|mr|mrs|ms|st|jr|sr)\.$", re.IGNORECASE)
_INITIALS = re.compile(r"(?:^|\s)(?:[A-Za-z]\.){2,}$")
_TAIL = 24
"""How much of a sentence's end the two patterns above read: enough for "approx." or "V.P.M.A.", and a long message
of many full stops is read once, not once per stop."""
_PUNCT = r"[\s,!.:;~—–-]*"
_ADDRESS = r"(?:doctor\s+)?(?:sirs?|madam|ma'?am)\b"
"""How some members address the bot, before or after the question ("Respected sir, …", "… the work of CMO, sir?",
"Doctor sir, …"): a courtesy, as "hi" is, and read as content it pulled covered questions under the bar (0.67 → 0.27)."""
_GREETING = re.compile(
    r"^\s*(?:(?:(?:hi|hey|hello|hiya|howdy|yo|greetings(?:\s+of\s+the\s+day)?|morning|good\s+(?:morning|afternoon|evening|day)"
    r"|@?guide\s?bot|@bot)\b"
    r"(?:\s+(?:there|all|everyone|everybody|folks|team|guys|y'all|guidebot|bot|colleagues|sirs?|madam|ma'?am))?"
    r"|(?:dear|respected)\s+(?:team|all|colleagues|friends|sirs?(?:\s*(?:/|or|and)\s*madam)?|madam|guidebot|bot|doctors?"
    r"|program(?:me)?\s+(?:team|office))\b|" + _ADDRESS + r")" + _PUNCT + r")+",
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
_ADDRESSED = re.compile(r",\s*" + _ADDRESS + r"(?=\W*$)", re.IGNORECASE)
"""The address after the question ("… the work of CMO, sir?"), its question mark kept."""
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_THANKS = re.compile(
    r"(?:" + _PUNCT + r"\b(?:thanks|thank\s+you|thx|ty|tia|cheers|much\s+appreciated|appreciate\s+it|pls|please"
    r"|in\s+a\s+nutshell|briefly|in\s+short|in\s+brief|tl;?dr|asap|lol|haha)\b"
    r"(?:\s+(?:so\s+much|a\s+lot|very\s+much|in\s+advance|all|everyone|guys|team|" + _ADDRESS + r"))*" + _PUNCT + r"\??" + _PUNCT + r")+$",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"(?<=[.!?,])\s*(?:thanks\s+(?:and|&)\s+regards|(?:with\s+)?(?:(?:best|kind|kindest|warm|warmest|many)\s+)?regards"
    r"|yours\s+(?:sincerely|faithfully|truly)|sincerely|faithfully|respectfully"
    r"|thanking\s+you(?:\s+in\s+(?:advance|anticipation))?)\s*(?:[,.:;-]\s*(?:[\w.'-]+(?:\s+|$)){0,4})?$",
    re.IGNORECASE,
)
"""A letter's closing and the name under it ("Regards, Dr. Mehta", "Thanks and regards, Dr. Farah Siddiqui"), after
the sentence before it: "… with regards to the CPE" and "do CMOs truly need one" close nothing. Each word of the name
ends at a space or the message's end: a name whose words could split anywhere made "x. regards, aaa…a!" take seconds
to leave unstripped."""
_COURTESY = re.compile(
    r"(?<=[.!?])\s+(?:kindly\s+do\s+the\s+needful|i\s+(?:shall|will|would)\s+be\s+(?:\w+\s+)?(?:grateful|thankful|obliged)"
    r"(?:\s+to\s+you)?\s+for\b|(?:i\s+am\s+)?looking\s+forward\s+to|awaiting\s+your|thank\s+you\s+(?:for|in\s+advance)\b)"
    r"[^.?!]*[.!]?\s*$",
    re.IGNORECASE,
)
"""A closing sentence of courtesy after the question ("I shall be grateful for your guidance.", "Kindly do the needful
and share the relevant details at your earliest convenience."); "I would be grateful *if you could* …" asks, and
stays."""
CLOSING_CHARS = 200
"""How far into a message's end a letter's closing is looked for."""
_REQUEST = re.compile(
    r"\s*(?:(?:i\s+)?(?:would|shall|will)\s+be\s+(?:\w+\s+)?(?:grateful|thankful|obliged)\s+if\s+you\s+(?:could|would|can|will)\s+"
    r"|i\s+am\s+writing\s+to\s+|i\s+(?:would\s+like|wish|want)\s+to\s+|(?:could|would|can)\s+you\s+|may\s+i\s+)?"
    r"(?:(?:please|kindly)\s+)*(?:advise|clarify|explain|suggest|tell\s+me|let\s+me\s+know|inform\s+me|guide\s+me|enquire|inquire"
    r"|know|understand|confirm|share)\b(?:\s+(?:me|us))?(?:\s+(?:about|on|regarding|as\s+to))?[\s,]+"
    r"(?=(?:(?:with|to|for|from|of|by|under)\s+(?=wh))?(?:what|which|who|whom|whose|how|why|when|where|whether|if|is|are|does"
    r"|do|can|should|would|will|has|have|the|a|an"
    r"|my|our|your|his|her|their|its|this|these|those|some|any|in|more)\b)",
    re.IGNORECASE,
)
"""The frame of a formal request ("Kindly advise what …", "I would be grateful if you could kindly clarify whether …",
"I am writing to enquire how …"): what follows it is the question, though no question mark ends it. "Kindly advise,
as I am comparing openings" and "I am writing to enquire as I am planning my next move" ask nothing after it."""
_REQUEST_VERB = re.compile(
    r"(?:advise|clarify|explain|suggest|tell\s+me|let\s+me\s+know|inform\s+me|guide\s+me|enquire|inquire|know|understand|confirm|share)\b",
    re.IGNORECASE,
)
"""What every `_REQUEST` holds: a message without it is no request, and is not searched for one (which tries the
whole frame at every character)."""
_ACKNOWLEDGEMENT = re.compile(r"^\s*(?:ok(?:ay)?|cool|great|got\s+it|nice)\W*$", re.IGNORECASE)
PLEASANTRY_CHARS = 60
"""Greetings and thanks are looked for this far into each end only: they are short, and a long paste stays linear."""
_EMOJI = frozenset({"So", "Sk"})
_EMOJI_JOINERS = frozenset({"\u200d", "\ufe0f", "\ufe0e"})
_ASCII_SYMBOLS = str.maketrans({"^": " ", "`": " "})
"""The ASCII characters of `_EMOJI`'s categories: text all ASCII is read without looking each character up."""
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_question(text: str, max_chars: int) -> str:
    """Strip HTML tags and control characters; keep at most `max_chars`.

    Only what no platform means as words is removed here. Each platform's own markup
    (Slack's `<@U…>`, `<!channel>`, `<url|label>`; Teams' `<at>`) is read by its adapter,
    which alone knows what it means, before the text reaches the core. A long paste is
    cut at a word boundary.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _HTML_TAG.sub(" ", text)
    text = _ASCII_CONTROL.sub(" ", text) if text.isascii() else "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
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
    if text.isascii():
        kept = text.translate(_ASCII_SYMBOLS)
    else:
        kept = "".join(" " if unicodedata.category(ch) in _EMOJI or ch in _EMOJI_JOINERS else ch for ch in text)
    head, kept = kept[:PLEASANTRY_CHARS], kept[PLEASANTRY_CHARS:]
    for pattern in (_GREETING, _FILLER, _PREFACE, _LEAD_IN, _GREETING, _FILLER):
        head = pattern.sub("", head, count=1)
    kept = head + kept
    body, tail = kept[:-PLEASANTRY_CHARS], kept[-PLEASANTRY_CHARS:]
    kept = _WS.sub(" ", body + _ADDRESSED.sub("", _THANKS.sub("", _SIGNATURE.sub("", tail)))).strip()
    start = max(0, len(kept) - CLOSING_CHARS)
    for pattern in (_SIGN_OFF, _COURTESY, _SIGN_OFF):
        closing = pattern.search(kept, start)
        if closing is not None:
            kept = kept[: closing.start()].rstrip(" ,")
    return kept


def as_questions(text: str) -> str:
    """`text` with each formal request turned into the question it makes ("Kindly advise what the VPMA is chiefly
    responsible for." → "what the VPMA is chiefly responsible for?"). Members who write to the bot as to a program
    office ask this way, and with no question mark the context sentence after a request was taken for what was asked
    (`asking_sentence`): of a blind set of such messages 38 % of the covered ones were answered."""
    if not _REQUEST_VERB.search(text) or not _REQUEST.search(text):
        return text
    sentences = sentences_of(text)
    out = []
    for sentence in sentences:
        match = _REQUEST.match(sentence)
        if match is None or sentence.rstrip().endswith("?"):
            out.append(sentence)
            continue
        ask = sentence[match.end() :].strip().lstrip(",").strip()
        out.append(ask.rstrip(" .!") + "?")
    return " ".join(out)


SHOUTED_SHARE = 0.8


def unshouted(text: str) -> str:
    """A question typed in capitals, in lower case: "WHAT DOES A CMO DO" would read as a row of acronyms.
    Lower case is safe, as retrieval reads the documents' acronyms in any case ("cmo", "vpma")."""
    letters = [ch for ch in text if ch.isalpha()]
    shouted = len(text.split()) >= 3 and letters and sum(ch.isupper() for ch in letters) >= SHOUTED_SHARE * len(letters)
    return text.lower() if shouted else text


TYPOGRAPHY = str.maketrans({"‘": "'", "’": "'", "ʼ": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-", "‑": "-"})
"""Curly quotes and dashes as straight ones: phones and word processors type them, the guide and banks mix both."""


_THE_GUIDE = re.compile(
    r"\b(?:the|our|your|this)\s+(?:(?:leadership\s+)?program(?:me)?(?:'s)?|career|cmo)\s+(?:guide|handbook|guidebook)\b"
    r"|\b(?:the|our|your|this)\s+(?:guidebook|handbook)\b",
    re.IGNORECASE,
)
"""The guide as members name it ("what does the program guide say about search firms?"): "program" is the
off-topic bank's word ("the best MBA programs"), and it refused that question (0.37) where "the guide" was answered."""


_INTERIM_STEPS = re.compile(
    r"\binterim(?=\s+(?:(?:leadership|admin|administrative|management|managerial)\s+)?(?:roles|positions|jobs|posts)\b)",
    re.IGNORECASE,
)
_INTERIM_POST = re.compile(
    r"\binterim\s+(?:cmo|chief|vpma|cqo|medical|vp|vice|exec|executive|ceo|director)\b|\bas\s+(?:the\s+)?interim\b"
    r"|\binterims\b",
    re.IGNORECASE,
)
"""Members and writers call the guide's transitional roles "interim leadership positions" or "interim admin jobs"
(three blind writers, each refused: "What do those interim leadership positions demonstrate to hiring committees
about a physician?" 0.32), where the off-topic bank's interim questions are about holding a post while it is filled
("step in as interim CMO"). Plural steps with no interim post named in the message read as the guide's word."""


def for_retrieval(text: str) -> str:
    """What retrieval reads of a cleaned question: straight quotes and dashes (phones type "what’s"), no links (their
    words are no one's question), no small talk or letter's greeting and closing around it, formal requests as the
    questions they make (`as_questions`), no shouting, the guide named as "the guide", and
    "interim" roles that are the path's steps as its "transitional" ones (`_INTERIM_STEPS`)."""
    text = unshouted(as_questions(without_pleasantries(_THE_GUIDE.sub("the guide", _URL.sub(" ", text.translate(TYPOGRAPHY))))))
    return text if _INTERIM_POST.search(text) else _INTERIM_STEPS.sub("transitional", text)


def sentences_of(text: str) -> list[str]:
    """The sentences of `text`, split after ".", "?" or "!": never after "vs." or "e.g." ("MHA vs. MBA: how do the
    two degrees differ?" is one sentence), and after initials ("M.D.") only where a question starts ("I'm an M.D.
    What should I do?", but "Must I hold an M.D. to work as a medical writer?" is one sentence)."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start()]
        tail = before[-_TAIL:]
        if _NEVER_ENDS.search(tail) or (_INITIALS.search(tail) and not _ASKS.match(text, match.end())):
            continue
        sentences.append(before)
        start = match.end()
    sentences.append(text[start:])
    return [s for s in sentences if s.strip()]


@functools.lru_cache(maxsize=256)
def question_sentences(text: str) -> tuple[str, ...]:
    """The sentences of `text` that end in a question mark, or all of them when none does (a question typed without
    one). Each focus the guide never states reads these (`bot.engine.UNSTATED_FOCUSES`), so one message is split
    once, not once per focus. Where every question leans on what came before ("What would you tell them?"), a
    sentence before it that reports someone's question is what is asked, and is read too: "Say a med student asks
    what USMLE score they'd need to someday become a CMO. What would you tell them?" asks for a score."""
    sentences = sentences_of(text)
    questions = tuple(s for s in sentences if s.rstrip().endswith("?"))
    if not questions:
        return tuple(sentences)
    if all(_points_back(q) for q in questions):
        return tuple(s for s in sentences if s not in questions and reports_a_question(s)) + questions
    return questions


def focus_of(text: str, min_words: int = 25) -> str | None:
    """The asking part of a chatty message: the last question sentence of a long one, or the question after a dash,
    colon or semicolon that ends a one-sentence message of context (`asking_clause`).

    Members write context first and ask last ("I'm a hospitalist eight years
    out … which degree do people usually pick?"); the context alone would pull
    retrieval toward whatever the member mentioned in passing. A question that
    points back ("… What is it, and why would a CMO need to get it?" after a
    sentence about capitation) asks about the context, which then leads alone.
    """
    sentences = sentences_of(text)
    if len(sentences) == 1:
        clause = asking_clause(text)
        return clause if clause is not None and len(clause.split()) >= 3 else None
    if len(text.split()) < min_words or len(sentences) < 2:
        return None
    questions = [s for s in sentences if s.rstrip().endswith("?")]
    focus = questions[-1] if questions else sentences[-1]
    return focus if len(focus.split()) >= 3 and not _points_back(focus) else None


def asking_clause(sentence: str, stop_words: frozenset[str] = ENGLISH_STOP_WORDS) -> str | None:
    """The question that ends a one-sentence message (its callers have split it) after a dash, colon or semicolon, when
    at least `RUN_ON_CONTEXT_WORDS` words of context come before it ("hospitalist here, QI committee chair, aiming for CMO -
    does a CMO still see patients?"); None otherwise. A shorter head names what is asked about rather than who asks
    ("cmo career path - what are the main building blocks?", "payer cmo - do they write the coverage policies?"), and a
    question of fewer than two content words of its own, or one that points back, asks about it ("MBA vs MHA vs MMM
    for a future CMO - what's the difference?", "At a drug company, who gives the final clinical say on new product
    development - is that the chief doc?").
    Without it, the context decided: "internist on the path to CMO, 10 yrs in, chair of our QI committee: who does the
    CMO report to?" was answered (0.81) with the QI committee's sentence."""
    ask = _after_break(sentence, stop_words)
    if ask is None or len(sentence.split()) - len(ask.split()) < RUN_ON_CONTEXT_WORDS or _points_back(ask):
        return None
    return ask


ANAPHORA = frozenset(
    {"it", "its", "that", "this", "those", "these", "they", "them", "their", "she", "her", "he", "him", "his", "there", "so",
     "both", "either", "neither", "former", "latter", "other"}
)
"""Words that point back to an earlier sentence: an asking sentence holding one is not a question on its own."""
_INSTEAD = re.compile(r"\binstead\b(?!\s+of\b)", re.IGNORECASE)
""""Instead" with nothing after it sets the question against what came before ("How would a career coach describe the
usual route instead?"); "instead of …" names what it is set against."""
_COMPARES_WHAT_CAME_BEFORE = re.compile(
    r"\beach\s+(?:one|of|degree|option|program|credential|choice)\b|\b(?:does|do|would|will|can|could|should)\s+each\b"
    r"|\b(?:the\s+)?(?:actual\s+|real\s+|main\s+|big\s+|key\s+)?(?:differences?|diffs?)(?:\s+(?:is|are|was|would\s+be))?\W*$",
    re.IGNORECASE,
)
_COMPARES_HERE = re.compile(r"\b(?:vs|versus|between|or|and|against|compared)\b", re.IGNORECASE)
"""A sentence that asks of "each one" or "each degree", or ends on "the difference" (or a bare "diff", or "what the
actual difference is") without naming what it compares, compares what came before it ("Could you outline what each
degree emphasizes?", "What does each offer?", "What's the clearest way to explain the difference?" after a sentence
weighing an MBA against an MHA); "MBA
vs MHA vs MMM - what's the difference?" names its own, and "more oversight at each step" is no choice among things
named."""
NUMBERS = frozenset({"two", "three", "four", "five"})
CHOOSING = frozenset({"is", "are", "one", "ones", "of", "would", "should", "do", "does", "did", "will", "makes", "make"})
"""After an opening "which", words that choose among things named before ("which is better?", "which one?")."""
_WHICH_ONE = re.compile(r"\bwhich\s+ones?\b", re.IGNORECASE)
""""Which one" anywhere chooses among things named before, unless the sentence names them first ("If I care more about
how hospitals run, *which one* fits me?" after a sentence weighing an MHA against an MBA; not "MBA or MHA, which one?")."""
_EXPLETIVE = re.compile(
    r"\b(?:what|who|why|how|where|when)\s+(?:is|was)\s+it\s+that\b"
    r"|\bis\s+it\s+(?:worth|true|possible|necessary|required|normal|common|realistic|wise|okay|ok|too\s+late)\b"
    r"|\b(?:is|are|was|were)\s+there\b|\bthere\s+(?:is|are|was|were)\b|\bthere's\b"
)
"""An "it" or "there" that stands for nothing said before ("What is it that MSLs do?", "Are there locum roles?")."""
MANNER_FORMS = frozenset(
    (
        "best better good great worst worth top ideal actually really honestly basically just seriously exactly truly literally"
        " than versus vs compare compared comparison difference different differ"
    ).split()
)
"""Words that say how a member asks ("which is *better*, MHA or MBA?", "the *difference* between …", "what does a
CMO *actually* do?"), not what about."""
VAGUE = MANNER_FORMS | {"bad", "idea", "ok", "okay", "thoughts", "sense", "right", "wrong", "fine", "true"} | {
    "answer", "advice", "verdict", "response", "reply", "takeaway", "recommendation", "suggestion", "consensus"
}
"""Words that judge or compare without naming what is judged ("Good idea or not?", "What's actually different?"), and
the answer itself, asked for after the question was put in context ("Suppose the CFO asks whether medical directors
touch money at all. What's the answer?"): no term to define."""
CLIPPED_QUESTION_WORDS = frozenset({"whats", "hows", "whos", "wheres", "whys"})
"""Question words typed without their apostrophe ("whats the connection"): "what's" is no content word either."""
_CONTENT_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


_CLAUSE_BREAK = re.compile(r"\s+-+\s+|[:;]\s+|,?\s+but\s+(?:i'?m\s+|i\s+am\s+)?(?:wondering|curious)(?:\s+about)?\s+", re.IGNORECASE)
"""Where a sentence turns from context to the question ("nervous about the politics - does the CMO report to …?",
"im on our ethics committee now which i love, but im wondering which committees i should be trying to get on")."""


_DEFINES = re.compile(r"\s*(?:what\s+is|what's|whats|what\s+are|what\s+does\s+\S+\s+mean|define|meaning\s+of)\b", re.IGNORECASE)
"""A question that asks what one word means stands on its own ("What's capitation?"); "Why bother?" does not."""
_ASKS_INDIRECTLY = re.compile(
    r"\s*(?:(?:i'?m\s+|i\s+am\s+|just\s+)?(?:curious|wondering)|i\s+wonder|not\s+sure|"
    r"trying\s+to\s+(?:figure\s+out|decide|understand|work\s+out)|(?:i\s+)?(?:want|need|would\s+like|'d\s+like)\s+to\s+know)\b",
    re.IGNORECASE,
)
"""A sentence that asks without a question mark ("Curious whether the comp is better in industry.")."""
_ASKS = re.compile(
    r"\s*(?:what|how|why|who|whom|whose|which|where|when|does|do|did|is|are|was|were|can|could|should|would|will|"
    r"shall|may|might|has|have|had)\b",
    re.IGNORECASE,
)
"""A clause after a dash or colon asks on its own only when it opens like a question ("… - does the CMO report to
the CEO?"); in "vp medical affairs - any outward facing work?" it asks about what comes before the dash."""


def _heads(text: str) -> list[str]:
    """The words of `text`, lower-cased, each contraction as its head ("what's": "what")."""
    return [w.split("'")[0] for w in _CONTENT_WORD.findall(text.lower())]


def _content_words(text: str, stop_words: frozenset[str]) -> int:
    """Distinct words of `text` that are neither stop words nor vague; a contraction counts as its head ("what's":
    "what"). Distinct, because "day to day" is one thing asked about, not two."""
    words = {w for w in _CONTENT_WORD.findall(text.lower()) if w not in VAGUE and w not in CLIPPED_QUESTION_WORDS}
    return len({w for w in words if w.split("'")[0] not in stop_words})


_AS_WHO = re.compile(r"\s*(?:as|being)\s+(?:an?|the)\s+(?P<who>[^,?;:]{2,80}?)\s*,\s*(?P<ask>\S.*)$", re.IGNORECASE | re.DOTALL)
_WHO_HERE = re.compile(r"\s*(?P<who>[^,?;:]{2,60}?)\s+here\s*(?:[,;:.!]\s*|\s+[-\u2014\u2013]+\s*)(?P<ask>\S.*)$", re.IGNORECASE | re.DOTALL)
_WHO_DASH = re.compile(r"\s*(?P<who>[^,?;:]{2,50}?)\s*(?:,|\s[-\u2014\u2013]+|[\u2014\u2013])\s*(?P<ask>\S.*)$", re.IGNORECASE | re.DOTALL)
_PERSON = re.compile(r"(?:ist|ian|eon|doc|doctor|attending|md|resident|fellow)s?$", re.IGNORECASE)
_ROLE_WORDS = frozenset({"chief", "officer", "director", "president", "vp", "executive", "leader", "administrator", "affairs"})


def who_clause(sentence: str, names: frozenset[str] = frozenset()) -> str | None:
    """The question after a head that says who asks ("As a radiologist, how do I get started toward CMO?",
    "Radiologist here - …", "gen surg attending — …"), when the head names none of the guide's roles; None otherwise."""
    for pattern in (_AS_WHO, _WHO_HERE, _WHO_DASH):
        match = pattern.match(sentence)
        if match is None:
            continue
        who = _heads(match.group("who"))
        if not who or any(w in names or w in _ROLE_WORDS for w in who):
            return None
        if pattern is _WHO_DASH and (len(who) > 5 or not _PERSON.search(who[-1])):
            continue
        ask = match.group("ask")
        return ask if _ASKS.match(ask) else None
    return None


_CONDITION = re.compile(
    r"\s*(?:if|when|once|after|assuming)\s+(?P<condition>[^,?;:]{3,80}?)\s*,\s*(?P<ask>\S.*)$", re.IGNORECASE | re.DOTALL
)


def condition_clause(sentence: str, names: frozenset[str] = frozenset()) -> str | None:
    """The question after a condition that opens its sentence ("if i eventually become a cmo, do cmos usually keep
    some clinical practice?"), when the question names one of the guide's roles itself; None otherwise. The condition
    says where the member is headed, which is the guide's ground, and carried an off-topic question over the bar
    (0.85 whole, 0.23 alone). A question that leaves its role to the condition ("If I want to become a CMO, what
    degree do I need?"), or points back to it ("If I have a malpractice case on my record, will it disqualify me from
    CMO roles?"), needs it, and is judged whole."""
    match = _CONDITION.match(sentence)
    if match is None:
        return None
    ask = match.group("ask")
    if not _ASKS.match(ask) or _points_back(ask):
        return None
    return ask if any(w in names or w.removesuffix("s") in names for w in _heads(ask)) else None


def asking_sentence(text: str, stop_words: frozenset[str], names: frozenset[str] = frozenset()) -> str | None:
    """The sentence of a message of several that asks, when it is a question on its own; None otherwise.

    "I'm on the CMO path. Who won the Super Bowl?" asks about football: the
    context sentence alone would make the message read as covered. But most
    asking sentences after context lean on it ("What should I tell her?",
    "Why should I do that?", "Good idea or not?"), and those are not questions
    on their own: only one with two words of its own content (or one of the guide's
    `names`, lower-cased: "What does a VPMA do?", or one it asks to define: "What's
    capitation?") and no word pointing back is returned. A message of several questions is several
    questions, not context and a question: it is judged whole, and so is one whose
    question mark is followed by a question in other words ("Anyone made the jump to
    pharma? Curious whether the comp is better."). Context can run into the asking
    sentence too, before a dash, colon or semicolon; the clause after it asks when it
    opens like a question and has two content words of its own. A message of one sentence
    is judged whole, unless context runs into its question the same way (`asking_clause`) or it is
    a run-on line that asks at its end (`_run_on_question`).
    """
    sentences = sentences_of(text)
    if len(sentences) < 2:
        clause = asking_clause(text, stop_words) or who_clause(text, names) or condition_clause(text, names)
        if clause is not None:
            return clause if _stands_alone(clause, stop_words, names) else None
        return _run_on_question(text, stop_words, names)
    questions = [s for s in sentences if s.rstrip().endswith("?")]
    if len(questions) > 1:
        return None
    ask = (questions or sentences)[-1]
    if any(_ASKS_INDIRECTLY.match(s) for s in sentences[sentences.index(ask) + 1 :]):
        return None
    first = ask is sentences[0]
    ask = _after_break(ask, stop_words) or who_clause(ask, names) or condition_clause(ask, names) or ask
    return ask if _stands_alone(ask, stop_words, names, opens=first) else None


def _after_break(sentence: str, stop_words: frozenset[str]) -> str | None:
    """The clause after a sentence's last dash, colon or semicolon, when it opens like a question and has two content
    words of its own; None otherwise."""
    clauses = _CLAUSE_BREAK.split(sentence)
    last = clauses[-1]
    return last if len(clauses) > 1 and _ASKS.match(last) and _content_words(last, stop_words) >= 2 else None


_BACK_TO_THE_ROLE = re.compile(
    r"\b(?:the|this|that)\s+(?:job|role|position|post|title|gig|seat|degree|credential|program|programme)\b(?!\s+(?:of|at|in|for|as|with)\b)",
    re.IGNORECASE,
)
"""A job, role or degree named only as "the job" points back to the one the context named ("I'm applying for our
open CQO role. What would the focus of the job be?"), unless what follows names it ("the role of a CMO at …")."""


OPENING_CONTENT_WORDS = 3
"""Content words of its own a question that opens its message needs before its pointers count as its own."""


def _stands_alone(ask: str, stop_words: frozenset[str], names: frozenset[str], *, defines: bool = True, opens: bool = False) -> bool:
    """Whether `ask` is a question on its own: nothing in it points back, and it has two words of its own content,
    or names one of the guide's names, or (`defines`) asks what one word means ("What's capitation?", not "What's
    different day to day?", which compares what came before). A question that `opens` its message has nothing before
    it to point back to: its "that" is its own ("Do medical directors have budget responsibility or is that all
    handled by the admin partner? My dyad partner handles everything now."), when it has three content words."""
    heads = _heads(ask)
    named = any(w in names for w in heads)
    content = _content_words(ask, stop_words)
    if not (opens and content >= OPENING_CONTENT_WORDS) and (_points_back(ask) or (not named and _BACK_TO_THE_ROLE.search(ask))):
        return False
    defining = defines and content == 1 and _DEFINES.match(ask) is not None and not VAGUE.intersection(heads)
    return named or content >= 2 or defining


RUN_ON_CONTEXT_WORDS = 6
_RELATIVE = re.compile(
    r"\b(?:a|an|the|any|some|every|each|no|one|someone|anyone|everyone|people|those|person)\s+(?:[\w-]+\s+)?$", re.IGNORECASE
)
_RELATIVE_REACH = 48
"""How far before a "who" `_RELATIVE` looks: a determiner and one word ("a busy doc who")."""
_ASKS_AFTER_WHEN = re.compile(r"\s+(?:do|does|did|should|can|could|would|will|is|are|was|were|shall|might|may)\b", re.IGNORECASE)


_ASKED_OF = re.compile(
    r"\b(?:ask|asks|asked|asking|wonder|wonders|wondering|tell|tells|telling|explain|explains|explaining|describe"
    r"|describes|describing)(?:\s+(?:a|an|the|her|his|their|my|our|your|them|him|me|us)?\s*[\w-]+)?\s+$",
    re.IGNORECASE,
)
"""A verb of asking or telling, and whom, just before a question word: the question is reported, not asked ("Picture a
brand-new medical director asking a mentor *what* the daily work will look like."), and leans on who reports it."""
_REPORTED_WORD = re.compile(r"\b(?:what|how|why|which|who|whom|whether|if|when|where)\b", re.IGNORECASE)


def _reported_at(text: str, start: int) -> bool:
    """Whether a verb of asking or telling, and whom, comes just before `start` (`_ASKED_OF`)."""
    return _ASKED_OF.search(text, max(0, start - _RELATIVE_REACH), start) is not None


def reports_a_question(sentence: str) -> bool:
    """Whether `sentence` reports someone's question ("Say a med student asks *what* USMLE score they'd need …")."""
    return any(_reported_at(sentence, m.start()) for m in _REPORTED_WORD.finditer(sentence))


def _opens_question(text: str, match: re.Match[str]) -> bool:
    """Whether the question word at `match` starts a question rather than a clause of the sentence before it: "who"
    or "which" after a noun phrase relates ("a doc *who* wants to be a CMO"), and "when" or "where" asks only
    before an auxiliary ("*when* should I …", not "… the clinical side *when* a new product is developed")."""
    word = match.group(0).lower()
    if _reported_at(text, match.start()):
        return False
    if word in ("who", "whom", "whose", "which"):
        return _RELATIVE.search(text[max(0, match.start() - _RELATIVE_REACH) : match.start()]) is None
    if word in ("when", "where"):
        return _ASKS_AFTER_WHEN.match(text, match.end()) is not None
    return True


_PUNCTUATED = re.compile(r"[,;:.!?\u2014\u2013]\s+\S|\s[-\u2014\u2013]\s")
"""Punctuation inside a message: a message that has it was not typed as one run-on line, and a question word in it
after six words is a clause of its sentence ("Besides an MBA, is the MMM a reasonable degree for a physician *who*
wants to lead?"), not the start of a question."""
_QUESTION_WORD = re.compile(r"\b(?:what|what's|whats|how|why|who|whom|which|where|when)\b", re.IGNORECASE)


def _run_on_question(text: str, stop_words: frozenset[str], names: frozenset[str]) -> str | None:
    """The question at the end of a message typed as one run-on sentence ("im a hospitalist on the path to cmo
    and building my exec skills how much do cmos make"): from its last question word ("what", "how", "who" …)
    that follows at least `RUN_ON_CONTEXT_WORDS` words, when that part stands on its own (`_stands_alone`, a
    lone word to define not enough: "… whats the diff"). A message that opens like a question is one ("What
    does a hospital COO do, and how is that different from what the CMO does?"). Without punctuation to split
    it, the context decided again: with a context sentence before each question of the blind sets, typed in
    lower case without punctuation, 86.3 % of the covered questions were answered and 6.5 % of the others."""
    if _ASKS.match(text) or _PUNCTUATED.search(text):
        return None
    starts = [
        m.start()
        for m in _QUESTION_WORD.finditer(text)
        if len(text[: m.start()].split()) >= RUN_ON_CONTEXT_WORDS and _opens_question(text, m)
    ]
    if not starts:
        return None
    ask = text[starts[-1] :]
    return ask if _stands_alone(ask, stop_words, names, defines=False) else None


def _points_back(sentence: str) -> bool:
    """Whether `sentence` holds a word that points back to what was said before it ("How long does it take?",
    "Do all three count?", "Which is the better route?"); an empty "it" or "there" does not
    ("What is it that MSLs do?", "Are there locum roles?")."""
    words = _heads(_EXPLETIVE.sub(" ", sentence.lower()))
    if words[:1] == ["which"] and words[1:2] and words[1] in CHOOSING:
        return True
    which_one = _WHICH_ONE.search(sentence)
    if which_one and not _COMPARES_HERE.search(sentence, 0, which_one.start()):
        return True
    compares = _COMPARES_WHAT_CAME_BEFORE.search(sentence)
    if compares and not _COMPARES_HERE.search(sentence, 0, compares.start()):
        return True
    if _INSTEAD.search(sentence):
        return True
    return any(w in ANAPHORA for w in words) or any(a in ("all", "the", "these", "those") and b in NUMBERS for a, b in pairwise(words))
