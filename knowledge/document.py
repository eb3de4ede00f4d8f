"""A loaded document: its metadata and its text as a sequence of headings and paragraphs; and how a document is written."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
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


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a file beside `path`, then rename over it: `guidebot index` never reads half a document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
