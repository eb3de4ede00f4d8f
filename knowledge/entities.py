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

This module does the deriving and re-exports the names callers use; the values
it stores are in `knowledge.catalogue`, the grammar of names (what makes a role
or a credential, normalizing, the glossary) in `knowledge.names`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from knowledge.catalogue import ENTITIES_VERSION, DocumentPath, Entities, Entity, EntityKind, Mention, Section
from knowledge.chunking import Chunk
from knowledge.document import Document
from knowledge.loaders import slugify
from knowledge.names import (
    CREDENTIAL_LEADS,
    CREDENTIAL_NOUNS,
    CREDENTIAL_WORDS,
    GENERIC_SUFFIXES,
    NAME_STOP_WORDS,
    ROLE_HEADS,
    ROLE_MODIFIERS,
    SETTING_OPENER,
    classify,
    initial_variants,
    load_glossary,
    name_pattern,
    normalize_name,
    normalized_aliases,
    roles_in_heading,
)

__all__ = [
    "CREDENTIAL_LEADS",
    "CREDENTIAL_NOUNS",
    "CREDENTIAL_WORDS",
    "ENTITIES_VERSION",
    "GENERIC_SUFFIXES",
    "NAME_STOP_WORDS",
    "ROLE_HEADS",
    "ROLE_MODIFIERS",
    "SETTING_OPENER",
    "DocumentPath",
    "Entities",
    "Entity",
    "EntityKind",
    "Mention",
    "Section",
    "classify",
    "derive_entities",
    "load_glossary",
    "normalize_name",
    "roles_in_heading",
]


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

    patterns = {d.key: name_pattern(d.name, d.acronym) for d in drafts}
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
        aliases = [draft.name, draft.acronym, *initial_variants(normalize_name(draft.name))]
        mentions = sentences.matching(patterns[draft.key])
        lookups = [draft.key, draft.acronym or "", draft.name]
    extra = [s for name in lookups if name for s in glossary.get(normalize_name(name), [])]
    return Entity(
        key=draft.key,
        kind=draft.kind,
        name=draft.name,
        acronym=draft.acronym,
        aliases=normalized_aliases(*aliases, *extra),
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
