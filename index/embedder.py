"""Embedders: the bundled sentence-transformers model, and a deterministic hashing one for tests."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from collections.abc import Callable
from typing import Literal, Protocol, TypeVar, runtime_checkable

import numpy as np

Backend = Literal["torch", "onnx", "onnx-int8"]
T = TypeVar("T")


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 rows, one per text."""
        ...


@runtime_checkable
class BulkCapable(Protocol):
    def for_bulk(self) -> Embedder:
        """The same model set up for embedding many texts at once (an index build) on every core."""
        ...


def encode_alongside(embedder: Embedder, texts: list[str], job: Callable[[], T]) -> tuple[np.ndarray, T]:
    """`texts`' vectors and `job`'s result, `job` run on another thread while the model runs where the backend leaves
    the interpreter free then (`OnnxEmbedder.encode_alongside`), else first."""
    alongside = getattr(embedder, "encode_alongside", None)
    if alongside is not None:
        return alongside(texts, job)
    result = job()
    return embedder.encode(texts), result


def for_bulk(embedder: Embedder) -> Embedder:
    """The embedder an index build should use: the backend's bulk mode where it has one.

    The ONNX backend serves on half the cores (the server's other threads need the rest) and
    builds on all of them; torch already uses every core, and the hashing embedder needs none.
    """
    return embedder.for_bulk() if isinstance(embedder, BulkCapable) else embedder


class SentenceTransformerEmbedder:
    def __init__(self, model: str, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        from index.onnx_embedder import export_key

        self.name = model
        # A digest of the model's files, so an embedding cache never serves another version's vectors.
        self.fingerprint = f"{model}#torch@{export_key(model)}"
        self.batch_size = batch_size
        self._model = SentenceTransformer(model, device="cpu")
        dimension = (getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension)()
        if dimension is None:
            raise ValueError(f"{model}: the model does not say the size of its embeddings")
        self.dim = int(dimension)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class HashingEmbedder:
    """Bag of hashed words and character trigrams: deterministic, instant, no model.

    Good enough for tests of plumbing (persistence, swaps, servers); retrieval
    quality is always measured with the real model.
    """

    def __init__(self, dim: int = 256) -> None:
        self.name = f"hashing-{dim}"
        self.dim = dim

    def _features(self, text: str) -> list[str]:
        words = re.findall(r"[a-z0-9]+", text.lower())
        grams = [w[i : i + 3] for w in words for i in range(max(1, len(w) - 2))]
        return words + grams

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


class EmbedderError(RuntimeError):
    pass


def load_embedder(model: str, cache_dir: Path, backend: Backend = "onnx") -> Embedder:
    """The embedder for `model`: `hashing-<dim>` for tests, else the sentence-transformers model run by `backend`.

    The index takes plain parameters rather than the bot's settings, so it stays usable (and
    testable) without the bot; `cache_dir` is where the ONNX export is kept between runs.
    """
    if model.startswith("hashing"):
        dim = int(model.split("-", 1)[1]) if "-" in model else 256
        return HashingEmbedder(dim)
    if backend in ("onnx", "onnx-int8"):
        return _load_onnx(model, cache_dir, quantize=backend == "onnx-int8")
    try:
        return SentenceTransformerEmbedder(model)
    except OSError as exc:
        raise EmbedderError(
            f"cannot load the embedding model {model!r} without network: {exc}. "
            "Set GUIDEBOT_MODEL to a local sentence-transformers model directory."
        ) from exc


def _load_onnx(model: str, cache_dir: Path, quantize: bool) -> Embedder:
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError as exc:  # pragma: no cover - onnxruntime is a dependency
        raise EmbedderError(
            f"the ONNX embedding backend needs onnxruntime and onnx ({exc}); install them, "
            "or set GUIDEBOT_EMBEDDING_BACKEND=torch."
        ) from exc
    from index.onnx_embedder import OnnxExportError, load_onnx_embedder

    try:
        return load_onnx_embedder(model, cache_dir, quantize=quantize)
    except (OSError, OnnxExportError) as exc:
        raise EmbedderError(
            f"cannot export or load the ONNX version of {model!r}: {exc}. "
            "Set GUIDEBOT_MODEL to a local sentence-transformers model directory, or GUIDEBOT_EMBEDDING_BACKEND=torch."
        ) from exc
