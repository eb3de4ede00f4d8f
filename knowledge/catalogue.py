"""The roles, credentials, settings and sections `derive_entities` found, as values.

`knowledge.entities` derives them at index time and stores them as
`entities.json` beside the index; the summaries (`bot.summaries`), the Teams
package and the tests read them back through `Entities.from_json`. Only the
documents' own sentences are kept (`Mention`), so a summary can quote them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

ENTITIES_VERSION = 1

EntityKind = Literal["role", "credential", "setting"]


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
