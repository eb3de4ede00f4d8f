"""The command grammar every platform shares: `role vpma`, `credential cpe`, `path`, `help` …

Slack's `/guide …`, Teams' typed commands and command menu, the web console and
the CLI all call `parse_command` (through `Guidebot.respond`), so one message
means the same thing everywhere. A command is a leading keyword and, for `role`
and `credential`, a short name; anything that reads like a sentence ("What role
does a CMO play?", "role of the CQO in quality?") is a question for the
answering engine.

A name is read the way members type it before deciding it is a sentence:
acronyms lose their dots ("M.B.A." → "MBA"), a setting's connecting words go
("CMO in a hospital", "CMO for a payer" → "CMO hospital", "CMO payer"), "masters
in" reads as "Master of", and one word alone is always a name ("credential DO":
"do" is not a verb there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.query import is_small_talk, without_pleasantries

CommandName = Literal["role", "credential", "path", "roles", "credentials", "help"]

KEYWORDS: dict[str, CommandName] = {
    "role": "role",
    "roles": "roles",
    "credential": "credential",
    "cred": "credential",
    "credentials": "credentials",
    "creds": "credentials",
    "path": "path",
    "help": "help",
}
SINGULAR: dict[CommandName, CommandName] = {"roles": "role", "credentials": "credential"}
PLURAL: dict[CommandName, CommandName] = {"role": "roles", "credential": "credentials"}

HELP_EXAMPLES: list[tuple[str, str]] = [
    ("role <name>", "What a role is, what it is responsible for, and how it leads on"),
    ("credential <name>", "What a degree or certification is, who awards it, and why it matters"),
    ("path", "The career path, stage by stage, in the guide's order"),
    ("roles", "Every role the guide describes"),
    ("credentials", "Every degree and certification the guide describes"),
    ("help", "This list"),
]

MAX_NAME_WORDS = 7
MAX_NAME_CHARS = 80
# A name never contains these; a sentence usually does ("role of the CQO in quality").
SENTENCE_WORDS = {
    "is", "are", "was", "were", "be", "does", "do", "did", "can", "could", "should", "would", "will",
    "must", "might", "may", "has", "have", "play", "plays", "in", "to", "with", "at", "on", "about",
    "from", "into", "than", "what", "how", "why", "when", "who", "which", "that", "this", "i", "me",
    "my", "you", "your", "we", "our", "it", "its", "as", "if", "for",
}
_LEADING_WORDS = {"of", "for", "and", "or", "by"}
_ARTICLES = {"the", "a", "an"}
_SHAPE = re.compile(r"^(?P<keyword>[A-Za-z]+)(?P<rest>(?:[\s:=?!.,].*)?)$", re.DOTALL)
_SLASH = re.compile(r"^/(?P<word>[\w-]+)\s*(?P<rest>.*)$", re.DOTALL)
_TRIM = "\"'`“”‘’.!,;: \t"
_DOTTED = re.compile(r"(?:[A-Za-z]{1,2}\.)+[A-Za-z]{0,2}\.?")
_SETTING_WORDS = {"in", "for", "at", "within", "inside"}
_KIND_WORDS = {"degree", "degrees", "credential", "certification", "certificate"}
_MASTERS = {"master", "masters", "master's", "masters'", "master’s"}


_ABOUT_THE_BOT = re.compile(
    r"^(?:"
    r"what\s+(?:can|do|else\s+can)\s+you\s+do|what\s+can\s+i\s+ask(?:\s+you)?|what\s+should\s+i\s+ask(?:\s+you)?"
    r"|how\s+do\s+i\s+use\s+(?:you|this(?:\s+bot)?|guidebot|the\s+bot)|how\s+does\s+this\s+(?:bot\s+)?work"
    r"|who\s+are\s+you|what\s+are\s+you|what\s+is\s+(?:this\s+bot|guidebot)"
    r"|what\s+(?:topics|questions|things)\s+(?:do|can)\s+you\s+(?:cover|answer|help\s+with)|what\s+do\s+you\s+(?:cover|know)"
    r"|help\s+me|can\s+you\s+help(?:\s+me)?|how\s+can\s+you\s+help(?:\s+me)?"
    r"|what\s+(?:can|do|else\s+can)\s+you\s+help(?:\s+me)?\s+with|what\s+can\s+i\s+use\s+you\s+for"
    r"|who\s+(?:made|built|created|wrote|runs)\s+you"
    r")[\s?!.]*$",
    re.IGNORECASE,
)
"""A question about the bot itself ("what can you do?", "who are you?"), read without the greeting or thanks
around it: the answer is `help`, not the guide."""


@dataclass(frozen=True)
class Command:
    name: CommandName
    argument: str = ""


def _without_slash(text: str) -> str:
    """ "/guide role vpma" → "role vpma"; "/help" stays a keyword."""
    match = _SLASH.match(text)
    if not match:
        return text
    word, rest = match.group("word"), match.group("rest")
    return f"{word} {rest}".strip() if word.lower() in KEYWORDS else (rest.strip() or "help")


def _undotted(word: str) -> str:
    """ "M.B.A." → "MBA", "D.O" → "DO", "Ph.D." → "PhD"; other words as they are."""
    return word.replace(".", "") if _DOTTED.fullmatch(word) and "." in word.rstrip(".") else word


def _without_connectives(words: list[str]) -> list[str]:
    """A name as members type it, minus the words that join it ("CMO in a hospital" → "CMO hospital",
    "Masters in Health Administration" → "Master of Health Administration")."""
    out: list[str] = []
    i = 0
    while i < len(words):
        word, low = words[i], words[i].lower()
        after = words[i + 1].lower() if i + 1 < len(words) else ""
        if out and low in _SETTING_WORDS and after in _ARTICLES:
            i += 2  # "in a", "for a", "at a" … between a role and its setting
            continue
        if low in _MASTERS and after in ("in", "of"):
            out += ["Master", "of"]
            i += 2
            continue
        if low in _MASTERS and after == "degree" and i + 2 < len(words) and words[i + 2].lower() in ("in", "of"):
            out += ["Master", "of"]
            i += 3
            continue
        out.append(word)
        i += 1
    return out


def _as_name(argument: str) -> str | None:
    """The argument when it is a short name, or None when it reads like a sentence."""
    if "\n" in argument or argument.rstrip().endswith("?") or len(argument) > MAX_NAME_CHARS:
        return None
    words = [_undotted(w.strip(_TRIM)) for w in argument.split()]
    words = [w for w in words if w]
    while words and words[0].lower() in _ARTICLES:
        words.pop(0)
    if not words or len(words) > MAX_NAME_WORDS or words[0].lower() in _LEADING_WORDS:
        return None
    words = _without_connectives(words)
    named = [w for w in words if w.lower() not in _KIND_WORDS]  # "DO degree" is as much a name as "DO"
    if len(named) > 1 and any(w.lower() in SENTENCE_WORDS for w in named):
        return None
    return " ".join(words)


def parse_command(text: str) -> Command | None:
    """The command a message spells, or None when the message is a question."""
    stripped = _without_slash((text or "").strip())
    if stripped and (is_small_talk(stripped) or _ABOUT_THE_BOT.match(without_pleasantries(stripped))):
        return Command("help")
    match = _SHAPE.match(stripped)
    if not match:
        return None
    keyword = KEYWORDS.get(match.group("keyword").lower())
    if keyword is None:
        return None
    rest = match.group("rest").strip().lstrip(":=-–—").strip()
    if rest.strip(_TRIM + "?") == "":
        return Command(PLURAL.get(keyword, keyword))
    if keyword == "help":
        topic = KEYWORDS.get(rest.strip(_TRIM + "?").lower())
        return Command("help", topic) if topic else None
    name = _as_name(rest)
    if name is None:
        return None
    return Command(SINGULAR.get(keyword, keyword), name)
