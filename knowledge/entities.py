"""Roles, credentials and career-path stages, derived from the documents at index time.

Members ask for `role vpma` or `credential cpe`; the summaries quote the guide, so
everything they need (who the entities are, the sentences that define and mention
them, the sections in order) is found here from the documents' own words: headings
that name a role, "Long Name (ACRONYM)" definitions, sentences that contrast a
role's settings ("For a health insurance payer, the CMO …"). Role and credential
are told apart by generic cues (Officer, Director … versus Doctor of, Master of,
Certified …), never by a list of one guide's names, so a new document's roles are
known after `guidebot index` with no code change.

The optional glossary may add aliases (ways members type a name) and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from knowledge.chunking import Chunk
from knowledge.document import Document
from knowledge.loaders import slugify
from knowledge.stopwords import ENGLISH_STOP_WORDS
from knowledge.yamlfile import read_yaml

ENTITIES_VERSION = 1

EntityKind = Literal["role", "credential", "setting"]

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


@dataclass(frozen=True)
class Mention:
    """One verbatim sentence of one chunk."""

    chunk_id: str
    sentence: str

    def to_json(self) -> dict[str, str]:
        return {"chunk_id": self.chunk_id, "sentence": self.sentence}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Mention:
        return cls(str(data["chunk_id"]), str(data["sentence"]))


@dataclass(frozen=True)
class Entity:
    """A role, a role's setting ("CMO at a health insurance payer") or a credential."""

    key: str
    kind: EntityKind
    name: str
    acronym: str | None
    aliases: tuple[str, ...]
    document_id: str
    defining: tuple[Mention, ...]
    mentions: tuple[Mention, ...]
    section: str | None = None
    parent: str | None = None
    setting: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "name": self.name,
            "acronym": self.acronym,
            "aliases": list(self.aliases),
            "document_id": self.document_id,
            "section": self.section,
            "parent": self.parent,
            "setting": self.setting,
            "defining": [m.to_json() for m in self.defining],
            "mentions": [m.to_json() for m in self.mentions],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Entity:
        return cls(
            key=str(data["key"]),
            kind=data["kind"],
            name=str(data["name"]),
            acronym=data.get("acronym"),
            aliases=tuple(data.get("aliases") or ()),
            document_id=str(data["document_id"]),
            defining=tuple(Mention.from_json(m) for m in data.get("defining") or ()),
            mentions=tuple(Mention.from_json(m) for m in data.get("mentions") or ()),
            section=data.get("section"),
            parent=data.get("parent"),
            setting=data.get("setting"),
        )


@dataclass(frozen=True)
class Section:
    """A heading of a document, its lead sentence, and whether it is a stage of the career path."""

    key: str
    document_id: str
    heading: str
    level: int
    parent: str | None
    chunk_ids: tuple[str, ...]
    lead: Mention
    stage: bool
    names: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "document_id": self.document_id,
            "heading": self.heading,
            "level": self.level,
            "parent": self.parent,
            "chunk_ids": list(self.chunk_ids),
            "lead": self.lead.to_json(),
            "stage": self.stage,
            "names": list(self.names),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Section:
        return cls(
            key=str(data["key"]),
            document_id=str(data["document_id"]),
            heading=str(data["heading"]),
            level=int(data["level"]),
            parent=data.get("parent"),
            chunk_ids=tuple(data.get("chunk_ids") or ()),
            lead=Mention.from_json(data["lead"]),
            stage=bool(data["stage"]),
            names=tuple(data.get("names") or ()),
        )


@dataclass(frozen=True)
class DocumentPath:
    """A document and the role its career path leads to (the role its title names)."""

    document_id: str
    title: str
    destination: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.document_id, "title": self.title, "destination": self.destination}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DocumentPath:
        return cls(str(data["id"]), str(data["title"]), data.get("destination"))


@dataclass(frozen=True)
class Entities:
    """What `derive_entities` stored with the index, read back as values."""

    entities: tuple[Entity, ...] = ()
    sections: tuple[Section, ...] = ()
    documents: tuple[DocumentPath, ...] = ()

    def by_key(self, key: str) -> Entity | None:
        return next((e for e in self.entities if e.key == key), None)

    def of_kind(self, *kinds: str) -> list[Entity]:
        return [e for e in self.entities if e.kind in kinds]

    def section(self, key: str | None) -> Section | None:
        return next((s for s in self.sections if s.key == key), None) if key else None

    def stages(self, document_id: str) -> list[Section]:
        return [s for s in self.sections if s.document_id == document_id and s.stage]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": ENTITIES_VERSION,
            "entities": [e.to_json() for e in self.entities],
            "sections": [s.to_json() for s in self.sections],
            "stages": [s.key for s in self.sections if s.stage],
            "documents": [d.to_json() for d in self.documents],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Entities:
        data = data or {}
        return cls(
            entities=tuple(Entity.from_json(e) for e in data.get("entities") or ()),
            sections=tuple(Section.from_json(s) for s in data.get("sections") or ()),
            documents=tuple(DocumentPath.from_json(d) for d in data.get("documents") or ()),
        )


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


def _name_pattern(name: str, acronym: str | None) -> re.Pattern[str]:
    """The name in any case ("medical director"), the acronym only as written ("DO", not "do")."""
    spelled = r"(?i:\b" + re.escape(name).replace(r"\ ", r"\s+") + r"s?\b)"
    return re.compile(spelled + (r"|\b" + re.escape(acronym) + r"s?\b" if acronym else ""))


def _initial_variants(normalized: str) -> list[str]:
    """ "vice president medical affairs" → "vp medical affairs": how members shorten a title."""
    words = normalized.split()
    if len(words) < 3 or words[0] not in ROLE_MODIFIERS or words[1] not in ROLE_HEADS:
        return []
    return [words[0][0] + words[1][0] + " " + " ".join(words[2:])]


def _aliases(*names: str | None) -> tuple[str, ...]:
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


@dataclass
class _Draft:
    key: str
    kind: EntityKind
    name: str
    acronym: str | None
    document_id: str
    defining: list[Mention]
    section: str | None = None
    parent: str | None = None
    setting: str | None = None


class _Sentences:
    """Every sentence of every chunk, in document order."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self.rows = [(chunk, sentence) for chunk in chunks for sentence in chunk.sentences]

    def matching(self, pattern: re.Pattern[str], chunk_ids: set[str] | None = None) -> list[Mention]:
        return [
            Mention(chunk.id, sentence)
            for chunk, sentence in self.rows
            if (chunk_ids is None or chunk.id in chunk_ids) and pattern.search(sentence)
        ]


@dataclass(frozen=True)
class _Heading:
    """A heading as the chunker saw it: its trail and the chunks under it."""

    key: str
    document_id: str
    trail: tuple[str, ...]
    chunks: tuple[Chunk, ...]

    @property
    def chunk_ids(self) -> set[str]:
        return {c.id for c in self.chunks}


def _section_key(document_id: str, trail: tuple[str, ...]) -> str:
    return f"{document_id}#{slugify('/'.join(trail))}"


def _headings(chunks: list[Chunk]) -> list[_Heading]:
    """One per heading, in document order (the introduction before the first heading is not one)."""
    grouped: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        if chunk.heading_trail:
            grouped.setdefault(_section_key(chunk.document_id, chunk.heading_trail), []).append(chunk)
    return [_Heading(key, members[0].document_id, members[0].heading_trail, tuple(members)) for key, members in grouped.items()]


def _unique_key(base: str, taken: set[str]) -> str:
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    taken.add(key)
    return key


def derive_entities(docs: list[Document], chunks: list[Chunk], acronyms: dict[str, str], glossary_path: Path) -> dict:
    """Roles, settings, credentials and career-path stages of the documents, as JSON for `entities.json`."""
    sentences = _Sentences(chunks)
    headings = _headings(chunks)
    document_of = {c.id: c.document_id for c in chunks}
    drafts: list[_Draft] = []
    taken: set[str] = set()
    by_name: dict[str, _Draft] = {}

    for acronym, long_form in acronyms.items():
        marker = f"({acronym})"
        defined = sentences.matching(re.compile(re.escape(marker)))
        kind = classify(long_form, defined[0].sentence.split(marker, 1)[1]) if defined else None
        if kind is None:
            continue
        draft = _Draft(_unique_key(slugify(acronym), taken), kind, long_form, acronym, document_of[defined[0].chunk_id], [defined[0]])
        drafts.append(draft)
        by_name[normalize_name(long_form)] = draft

    for heading in headings:
        for role_name in roles_in_heading(heading.trail[-1]):
            role = by_name.get(normalize_name(role_name))
            if role is None:
                role = _Draft(_unique_key(slugify(role_name), taken), "role", role_name, None, heading.document_id, [])
                drafts.append(role)
                by_name[normalize_name(role_name)] = role
            if role.section is None:
                role.section = heading.key

    patterns = {d.key: _name_pattern(d.name, d.acronym) for d in drafts}
    for draft in drafts:
        own = next((h for h in headings if h.key == draft.section), None)
        if own is None:
            continue
        named_there = sentences.matching(patterns[draft.key], own.chunk_ids)
        first = named_there[0] if named_there else Mention(own.chunks[0].id, own.chunks[0].sentences[0])
        if first not in draft.defining:
            draft.defining.insert(0, first)

    drafts.extend(_settings(drafts, sentences, taken))

    glossary = load_glossary(glossary_path)
    entities = [_finish(d, patterns, sentences, glossary, drafts) for d in drafts]
    order = {m: i for i, m in enumerate(Mention(c.id, s) for c, s in sentences.rows)}
    entities.sort(key=lambda e: min((order.get(m, len(order)) for m in e.mentions + e.defining), default=len(order)))

    documents = [DocumentPath(doc.id, doc.title, _destination(doc, entities)) for doc in docs]
    built = Entities(
        entities=tuple(entities),
        sections=tuple(_section_values(headings, entities, documents)),
        documents=tuple(documents),
    )
    return built.to_json()


def _settings(drafts: list[_Draft], sentences: _Sentences, taken: set[str]) -> list[_Draft]:
    """Settings a role is described in: "In a hospital or health system, the CMO …".

    A setting counts only when the document contrasts at least two for one role,
    so a stray "For a successful transition, the CMO …" is not mistaken for one.
    """
    found: list[_Draft] = []
    for role in [d for d in drafts if d.kind == "role"]:
        names = [n for n in (role.acronym, role.name) if n]
        subject = re.compile(r"(?:" + "|".join(re.escape(n) for n in names) + r")\b")
        settings: dict[str, list[Mention]] = {}
        for chunk, sentence in sentences.rows:
            if chunk.document_id != role.document_id:
                continue
            match = SETTING_OPENER.match(sentence)
            if match and subject.match(sentence, match.end()):
                settings.setdefault(match.group("setting").strip(), []).append(Mention(chunk.id, sentence))
        if len(settings) < 2:
            continue
        for setting, mentions in settings.items():
            found.append(
                _Draft(
                    key=_unique_key(f"{role.key}-{slugify(setting)}", taken),
                    kind="setting",
                    name=f"{role.name} — {setting}",
                    acronym=None,
                    document_id=role.document_id,
                    defining=mentions,
                    section=None,
                    parent=role.key,
                    setting=setting,
                )
            )
    return found


def _finish(
    draft: _Draft,
    patterns: dict[str, re.Pattern[str]],
    sentences: _Sentences,
    glossary: dict[str, list[str]],
    drafts: list[_Draft],
) -> Entity:
    if draft.kind == "setting":
        parent = next(d for d in drafts if d.key == draft.parent)
        aliases: list[str | None] = [draft.name, *_setting_aliases(parent, draft.setting or "")]
        mentions = list(draft.defining)
        lookups = [draft.key, draft.setting or "", draft.name]
    else:
        aliases = [draft.name, draft.acronym, *_initial_variants(normalize_name(draft.name))]
        mentions = sentences.matching(patterns[draft.key])
        lookups = [draft.key, draft.acronym or "", draft.name]
    extra = [s for name in lookups if name for s in glossary.get(normalize_name(name), [])]
    return Entity(
        key=draft.key,
        kind=draft.kind,
        name=draft.name,
        acronym=draft.acronym,
        aliases=_aliases(*aliases, *extra),
        document_id=draft.document_id,
        defining=tuple(dict.fromkeys(draft.defining)),
        mentions=tuple(mentions),
        section=draft.section,
        parent=draft.parent,
        setting=draft.setting,
    )


def _setting_aliases(parent: _Draft, setting: str) -> list[str]:
    """ "cmo payer", "cmo health insurance payer", "chief medical officer payer" …"""
    heads = [h for h in (parent.acronym, parent.name) if h]
    words = normalize_name(setting).split()
    return [f"{head} {tail}" for head in heads for tail in [" ".join(words), *words]]


def _destination(doc: Document, entities: Iterable[Entity]) -> str | None:
    """The role a document's title names ("How to Become a Chief Medical Officer")."""
    title = normalize_name(doc.title)
    for entity in entities:
        if entity.kind != "role" or entity.document_id != doc.id:
            continue
        names = [normalize_name(entity.name)] + ([entity.acronym.lower()] if entity.acronym else [])
        if any(re.search(rf"\b{re.escape(n)}\b", title) for n in names):
            return entity.key
    return None


def _section_values(headings: list[_Heading], entities: list[Entity], documents: list[DocumentPath]) -> list[Section]:
    """Sections in order; a stage is a leaf section that is a step on the way.

    Not stages: a section about the destination role itself (the goal, not a
    step), a section that defines credentials (requirements, listed by
    `credentials`), and a heading whose children carry the steps.
    """
    destinations = {d.document_id: d.destination for d in documents}
    keys = {h.key for h in headings}
    values: list[Section] = []
    for heading in headings:
        trail = heading.trail
        parent = _section_key(heading.document_id, trail[:-1]) if len(trail) > 1 else None
        has_children = any(
            h.document_id == heading.document_id and len(h.trail) > len(trail) and h.trail[: len(trail)] == trail
            for h in headings
        )
        named = tuple(e.key for e in entities if e.section == heading.key)
        defines_credentials = any(
            e.kind == "credential" and any(m.chunk_id in heading.chunk_ids for m in e.defining) for e in entities
        )
        about_destination = destinations.get(heading.document_id) in named
        stage = not (has_children or about_destination or defines_credentials or CREDENTIAL_NOUNS.search(trail[-1]))
        first = heading.chunks[0]
        values.append(
            Section(
                key=heading.key,
                document_id=heading.document_id,
                heading=trail[-1],
                level=len(trail),
                parent=parent if parent in keys else None,
                chunk_ids=tuple(c.id for c in heading.chunks),
                lead=Mention(first.id, first.sentences[0]),
                stage=stage,
                names=named,
            )
        )
    return values
