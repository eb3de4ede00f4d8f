"""The index on disk: a manifest, the chunks, FAISS and BM25 files, in one directory.

`<data_dir>/index` is a symlink to a versioned directory. A build writes a new
directory next to it and swaps the link with one `rename`, so a reader sees the
old index or the new one, never half of each.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"


class IndexMissingError(RuntimeError):
    """No usable index: the message tells the user what to run."""


@dataclass(frozen=True)
class Manifest:
    model: str
    dimension: int
    chunker_version: str
    corpus_hash: str
    built_at: float
    chunks: int
    documents: int
    dense_kind: str
    format_version: int = 1

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def corpus_hash(paths: list[Path], root: Path, extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    for path in sorted(paths):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def read_manifest(index_dir: Path) -> Manifest | None:
    try:
        data = json.loads((index_dir / MANIFEST).read_text())
        return Manifest(**data)
    except (OSError, ValueError, TypeError):
        return None


def new_build_dir(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"index-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}.tmp"
    path.mkdir()
    return path


def publish(build_dir: Path, live_link: Path, manifest: Manifest) -> Path:
    """Write the manifest last, then atomically point the live link at the build."""
    (build_dir / MANIFEST).write_text(json.dumps(manifest.to_json(), indent=2))
    final = build_dir.with_suffix("")
    build_dir.rename(final)
    tmp_link = live_link.with_name(f".{live_link.name}.{os.getpid()}.link")
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    tmp_link.symlink_to(final.name)
    if live_link.exists() and not live_link.is_symlink():
        shutil.rmtree(live_link)
    os.replace(tmp_link, live_link)
    _remove_old_builds(live_link.parent, keep=final)
    return final


def _remove_old_builds(data_dir: Path, keep: Path, keep_recent: int = 2) -> None:
    """Keep the live build and the one before it (a server may still be reading it)."""
    builds = sorted((p for p in data_dir.glob("index-*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    stale = [p for p in builds if p != keep and not p.name.endswith(".tmp")]
    for path in stale[: max(0, len(stale) - (keep_recent - 1))]:
        shutil.rmtree(path, ignore_errors=True)
    for path in data_dir.glob("index-*.tmp"):
        if time.time() - path.stat().st_mtime > 3600:
            shutil.rmtree(path, ignore_errors=True)


def live_target(live_link: Path) -> Path:
    return live_link.resolve() if live_link.is_symlink() else live_link


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
