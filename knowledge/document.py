"""A loaded document: its metadata and its text as a sequence of headings and paragraphs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["heading", "paragraph"]


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str
    level: int = 0


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    blocks: tuple[Block, ...]
    path: str
    version: str = ""
    date: str = ""
    url: str | None = None
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def text(self) -> str:
        return "\n\n".join(block.text for block in self.blocks)
