"""Vectors of texts already embedded, kept in the data dir so that a rebuild embeds only what changed.

Embedding is most of an index build, and an edit to one document changes a few
chunks and sentences, not the hundreds of bank questions beside them. The cache
is content-addressed: a row's key is the SHA-256 of its text, in a directory
per embedder (its name and its `fingerprint`, which for the ONNX backend names a
digest of the model's files), so a vector is only ever reused for the same text
embedded by the same model.

On disk (`<data_dir>/embeddings/<embedder>/`) it is a set of immutable segment
files, each a `.npz` of keys and float32 rows written whole to a temporary name
and renamed into place. Concurrent builds therefore never see half a file and
never overwrite each other: each adds its own segment. When segments pile up, a
build merges them into one holding the rows it used and deletes the ones it
read; a reader that loses a segment to that merge embeds those texts again. A
segment that cannot be read, or holds anything but unit-length finite rows of
the right width, is ignored. Deleting the directory is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.embedder import Embedder

log = logging.getLogger(__name__)

CACHE_DIR = "embeddings"
SEGMENT_PREFIX = "seg-"
TEMP_PREFIX = ".tmp-"
MAX_SEGMENTS = 8
STALE_TEMP_SECONDS = 3600


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def embedder_key(embedder: Embedder) -> str:
    """What identifies an embedder's vectors: its name, and its model files' digest where it has one."""
    return getattr(embedder, "fingerprint", None) or embedder.name


def cache_dir(data_dir: Path, embedder: Embedder) -> Path:
    key = embedder_key(embedder)
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(embedder.name.split("#")[0]).name or "model")[:40]
    return data_dir / CACHE_DIR / f"{readable}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


@dataclass
class CacheStats:
    texts: int = 0
    embedded: int = 0
    """Texts the model embedded (not found in the cache)."""


class EmbeddingCache:
    def __init__(self, directory: Path, dim: int) -> None:
        self.directory = directory
        self.dim = dim
        self.stats = CacheStats()

    @classmethod
    def for_embedder(cls, data_dir: Path, embedder: Embedder) -> EmbeddingCache:
        return cls(cache_dir(data_dir, embedder), int(embedder.dim))

    def encode(self, embedder: Embedder, texts: list[str]) -> np.ndarray:
        """`embedder.encode(texts)`, with the model run only on texts the cache has not seen."""
        keys = [text_key(t) for t in texts]
        segments = self._segments()
        known = self._read(segments)
        missing: dict[bytes, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in known:
                missing.setdefault(key, text)
        if missing:
            vectors = np.asarray(embedder.encode(list(missing.values())), dtype=np.float32)
            known.update(zip(missing, vectors, strict=True))
        self.stats = CacheStats(texts=len(texts), embedded=len(missing))
        if len(segments) + bool(missing) > MAX_SEGMENTS:
            self._compact(segments, {key: known[key] for key in keys})
        elif missing:
            self._write({key: known[key] for key in missing})
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.ascontiguousarray(np.stack([known[key] for key in keys]), dtype=np.float32)

    # ------------------------------------------------------------ segments

    def _segments(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob(f"{SEGMENT_PREFIX}*.npz"))

    def _read(self, segments: list[Path]) -> dict[bytes, np.ndarray]:
        known: dict[bytes, np.ndarray] = {}
        for path in segments:
            try:
                with np.load(path, allow_pickle=False) as data:
                    keys, vectors = data["keys"], data["vectors"]
            except FileNotFoundError:
                continue  # merged away by a concurrent build
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
                log.warning("embedding cache: ignoring unreadable %s (%s)", path.name, type(exc).__name__)
                continue
            if not self._valid(keys, vectors):
                log.warning("embedding cache: ignoring %s (not %d-dimensional unit rows)", path.name, self.dim)
                continue
            known.update(zip((k.tobytes() for k in keys), vectors, strict=True))
        return known

    def _valid(self, keys: np.ndarray, vectors: np.ndarray) -> bool:
        if keys.dtype != np.uint8 or keys.ndim != 2 or keys.shape[1] != 32:
            return False
        if vectors.dtype != np.float32 or vectors.shape != (len(keys), self.dim):
            return False
        if not np.isfinite(vectors).all():
            return False
        return bool(np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)) if len(vectors) else True

    def _write(self, rows: dict[bytes, np.ndarray]) -> bool:
        """A new segment, published whole by an atomic rename; a failure only costs the cache."""
        if not rows:
            return True
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            keys = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), 32)
            vectors = np.ascontiguousarray(np.stack(list(rows.values())), dtype=np.float32)
            name = f"{SEGMENT_PREFIX}{time.time_ns()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.npz"
            fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".npz", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as out:
                    np.savez(out, keys=keys, vectors=vectors)
                os.chmod(tmp, 0o644)  # mkstemp's 0600 would lock out a server or build run as another user
                os.replace(tmp, self.directory / name)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.warning("embedding cache: could not store %d vectors (%s)", len(rows), exc)
            return False
        return True

    def _compact(self, read: list[Path], keep: dict[bytes, np.ndarray]) -> None:
        """One segment with the rows this build used, in place of the segments it read.

        Rows only other texts used (an older version of a document) are dropped; a segment
        another build adds meanwhile is not among `read`, so it stays.
        """
        if not self._write(keep):
            return
        for path in read:
            path.unlink(missing_ok=True)
        for path in self.directory.glob(f"{TEMP_PREFIX}*"):
            # A writer that died before its rename; the age spares one still writing.
            with contextlib.suppress(FileNotFoundError):
                if time.time() - path.stat().st_mtime > STALE_TEMP_SECONDS:
                    path.unlink()
