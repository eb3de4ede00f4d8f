"""How the documents name roles and credentials, and the forms names are compared and matched in.

Role and credential are told apart by generic cues (Officer, Director … versus
Doctor of, Master of, Certified …), never by a list of one guide's names, so a
new document's roles are known after `guidebot index` with no code change.
The optional glossary may add aliases (ways members type a name) and nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from knowledge.stopwords import ENGLISH_STOP_WORDS
from knowledge.yamlfile import read_yaml

ROLE_HEADS = {"officer", "director", "president", "manager", "chair", "chairman", "chairperson", "dean", "administrator"}
ROLE_MODIFIERS = {"vice", "chief", "deputy", "assistant", "associate"}
CREDENTIAL_LEADS = {"doctor", "master", "bachelor"}
CREDENTIAL_WORDS = {"certified", "certificate", "certification", "diploma", "diplomate", "fellow", "fellowship", "licensed", "registered", "board"}
CREDENTIAL_NOUNS = re.compile(r"\b(credentials?|degrees?|certifications?|diplomas?)\b", re.IGNORECASE)
GENERIC_SUFFIXES = {"role", "roles", "position", "positions", "track", "career", "careers", "job", "jobs"}
SETTING_OPENER = re.compile(r"^(?:In|For|Within|At|Inside|Across)\s+(?:a|an)\s+(?P<setting>[^,]{3,80}?),\s+(?:the\s+)?", re.IGNORECASE)
NAME_STOP_WORDS = {"a", "an", "the", "of", "or", "and", "for", "in", "to"}
_WORD = re.compile(r"[A-Za-z][\w’'&-]*")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalize_name(text: str) -> str:
    """The form names are compared in: lower case, no punctuation, no connecting words."""
    text = text.lower().replace("’s", "").replace("'s", "").replace("&", " and ")
    return " ".join(w for w in _NON_ALNUM.sub(" ", text).split() if w not in NAME_STOP_WORDS)


def classify(long_form: str, context: str = "") -> Literal["role", "credential"] | None:
    """Role, credential or neither, from the words of a name and the words right after it."""
    words = [w.lower() for w in _WORD.findall(long_form)]
    if not words:
        return None
    if (len(words) > 2 and words[0] in CREDENTIAL_LEADS and words[1] == "of") or words[0] in CREDENTIAL_WORDS:
        return "credential"
    if any(w.rstrip("s") in ROLE_HEADS or w in ROLE_HEADS for w in words) or words[0] in ROLE_MODIFIERS:
        return "role"
    if CREDENTIAL_NOUNS.match(context.strip()):
        return "credential"
    return None


def _singular(word: str) -> str:
    lower = word.lower()
    if lower.endswith("s") and lower[:-1] in ROLE_HEADS:
        return word[:-1]
    return word


def roles_in_heading(heading: str) -> list[str]:
    """Role names a heading announces: "Medical Director Roles" → "Medical Director".

    A role name is a run of capitalised words that ends in a role head (Officer,
    Director …), optionally followed by "of" and more capitalised words ("Vice
    President of Medical Affairs"); connecting words, a leading verb ("Becoming")
    and trailing nouns like "Role" are left out, and a lone "Officer" names nothing.
    """
    words = [w.strip(":;,.!?()\"“”") for w in heading.split()]
    found: list[str] = []
    i = 0
    while i < len(words):
        if not _is_head(words, i):
            i += 1
            continue
        start = i
        while start > 0:
            prev = words[start - 1]
            leading_verb = start - 1 == 0 and prev.lower().endswith("ing")
            if not prev[:1].isupper() or prev.lower() in ENGLISH_STOP_WORDS or leading_verb:
                break
            start -= 1
        end = i + 1
        if end + 1 < len(words) and words[end].lower() == "of" and words[end + 1][:1].isupper():
            end += 1
            while end < len(words) and words[end][:1].isupper() and words[end].lower() not in GENERIC_SUFFIXES:
                end += 1
        span = words[start:end]
        span[-1] = _singular(span[-1])
        if len(span) > 1:
            found.append(" ".join(span))
        i = end
    return found


def _is_head(words: list[str], i: int) -> bool:
    """ "Officer", "Directors", or "Chief" when it is "Chief of …" (not the start of "Chief Medical Officer")."""
    word = words[i].lower()
    if word in ROLE_HEADS or (word.endswith("s") and word[:-1] in ROLE_HEADS):
        return True
    return word == "chief" and i + 1 < len(words) and words[i + 1].lower() == "of"


def name_pattern(name: str, acronym: str | None) -> re.Pattern[str]:
    """The name in any case ("medical director"), the acronym only as written ("DO", not "do")."""
    spelled = r"(?i:\b" + re.escape(name).replace(r"\ ", r"\s+") + r"s?\b)"
    return re.compile(spelled + (r"|\b" + re.escape(acronym) + r"s?\b" if acronym else ""))


def initial_variants(normalized: str) -> list[str]:
    """ "vice president medical affairs" → "vp medical affairs": how members shorten a title."""
    words = normalized.split()
    if len(words) < 3 or words[0] not in ROLE_MODIFIERS or words[1] not in ROLE_HEADS:
        return []
    return [words[0][0] + words[1][0] + " " + " ".join(words[2:])]


def normalized_aliases(*names: str | None) -> tuple[str, ...]:
    """The distinct normalized forms of `names`, in order, leaving out those with nothing left."""
    out: dict[str, None] = {}
    for name in names:
        if name:
            norm = normalize_name(name)
            if norm:
                out.setdefault(norm, None)
    return tuple(out)


def load_glossary(path: Path | None) -> dict[str, list[str]]:
    """Extra aliases by entity (key, acronym, name or setting); the glossary may hold nothing else."""
    if path is None or not path.exists():
        return {}
    data = read_yaml(path) or {}
    if not isinstance(data, dict) or set(data) - {"aliases"}:
        raise ValueError(f"{path.name}: only an `aliases:` mapping is allowed (summaries quote the documents)")
    aliases = data.get("aliases") or {}
    if not isinstance(aliases, dict):
        raise ValueError(f"{path.name}: `aliases` must map a name to a list of spellings")
    glossary: dict[str, list[str]] = {}
    for name, spellings in aliases.items():
        if isinstance(spellings, str):
            spellings = [spellings]
        if not isinstance(spellings, list) or not all(isinstance(s, str) for s in spellings):
            raise ValueError(f"{path.name}: aliases of {name!r} must be a list of spellings")
        glossary[normalize_name(str(name))] = list(spellings)
    return glossary
