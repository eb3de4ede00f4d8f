"""The embedding cache: a rebuild embeds only texts it has not embedded before, and a bad cache costs only time."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from index.embedder import HashingEmbedder
from index.embedding_cache import MAX_SEGMENTS, EmbeddingCache, cache_dir


class Recording(HashingEmbedder):
    """The hashing embedder, remembering what it was asked to embed."""

    def __init__(self) -> None:
        super().__init__(64)
        self.seen: list[str] = []
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.seen.extend(texts)
        return super().encode(texts)


def test_only_new_texts_are_embedded_and_the_rest_come_back_unchanged(tmp_path: Path):
    embedder = Recording()
    first = EmbeddingCache.for_embedder(tmp_path, embedder).encode(embedder, ["a chunk", "a sentence", "a chunk"])
    assert embedder.seen == ["a chunk", "a sentence"]
    embedder.seen.clear()
    cache = EmbeddingCache.for_embedder(tmp_path, embedder)
    again = cache.encode(embedder, ["a sentence", "an edited chunk", "a chunk"])
    assert embedder.seen == ["an edited chunk"]
    assert cache.stats.texts == 3 and cache.stats.embedded == 1
    np.testing.assert_array_equal(again[0], first[1])
    np.testing.assert_array_equal(again[2], first[0])
    np.testing.assert_allclose(again, embedder.encode(["a sentence", "an edited chunk", "a chunk"]), atol=1e-6)


def test_another_embedder_never_gets_these_vectors(tmp_path: Path):
    small, large = HashingEmbedder(64), HashingEmbedder(128)
    assert cache_dir(tmp_path, small) != cache_dir(tmp_path, large)
    EmbeddingCache.for_embedder(tmp_path, small).encode(small, ["a text"])
    assert EmbeddingCache.for_embedder(tmp_path, large).encode(large, ["a text"]).shape == (1, 128)


def test_a_damaged_segment_is_ignored_and_its_texts_embedded_again(tmp_path: Path):
    embedder = Recording()
    EmbeddingCache.for_embedder(tmp_path, embedder).encode(embedder, ["one", "two"])
    [segment] = cache_dir(tmp_path, embedder).glob("seg-*.npz")
    segment.write_bytes(segment.read_bytes()[:100])
    embedder.seen.clear()
    vectors = EmbeddingCache.for_embedder(tmp_path, embedder).encode(embedder, ["one", "two"])
    assert embedder.seen == ["one", "two"]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_concurrent_builds_each_publish_whole_segments(tmp_path: Path):
    embedder = Recording()
    texts = [f"text {i}" for i in range(200)]
    results: list[np.ndarray] = []

    def build(offset: int) -> None:
        mine = texts[offset:] + texts[:offset]
        results.append(EmbeddingCache.for_embedder(tmp_path, embedder).encode(embedder, mine))

    threads = [threading.Thread(target=build, args=(i * 25,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 6
    directory = cache_dir(tmp_path, embedder)
    assert not list(directory.glob(".tmp-*"))
    embedder.seen.clear()
    EmbeddingCache.for_embedder(tmp_path, embedder).encode(embedder, texts)
    assert embedder.seen == []


def test_segments_are_merged_keeping_what_the_last_build_used(tmp_path: Path):
    embedder = Recording()
    for i in range(MAX_SEGMENTS + 1):
        EmbeddingCache.for_embedder(tmp_path, embedder).encode(embedder, ["kept", f"edit {i}"])
    segments = list(cache_dir(tmp_path, embedder).glob("seg-*.npz"))
    assert len(segments) == 1
    with np.load(segments[0]) as data:
        assert len(data["keys"]) == 2  # "kept" and the last edit; older edits are gone
