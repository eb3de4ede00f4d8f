"""The ONNX backend embeds as the torch model does, so retrieval and abstention stay the same."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from bot.settings import PROJECT_ROOT, Settings
from bot.embedding import load_embedder
from index.embedder import SentenceTransformerEmbedder

pytest.importorskip("onnxruntime", reason="onnxruntime is not installed: the ONNX embedding backend is unavailable")
pytest.importorskip("onnx", reason="onnx is not installed: the ONNX export cannot be made")

GUIDE = PROJECT_ROOT.parent / "shared" / "knowledge-source" / "cmo-career-path.txt"


def guide_sentences() -> list[str]:
    documents = PROJECT_ROOT / "knowledge" / "documents"
    text = GUIDE.read_text(encoding="utf-8") if GUIDE.exists() else ""
    text += "\n".join(p.read_text(encoding="utf-8") for p in sorted(documents.glob("*.md")))
    sentences = [s.strip() for s in re.split(r"(?<=[.?!])\s+|\n+", text) if len(s.split()) >= 3]
    return list(dict.fromkeys(sentences))


@pytest.fixture(scope="module")
def torch_vectors() -> tuple[list[str], np.ndarray]:
    sentences = guide_sentences()
    assert len(sentences) > 30
    return sentences, SentenceTransformerEmbedder(Settings().model).encode(sentences)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-data")


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_vectors_are_close_to_torch_on_the_guides_sentences(backend, torch_vectors, data_dir: Path):
    sentences, expected = torch_vectors
    embedder = load_embedder(Settings(data_dir=data_dir, embedding_backend=backend))
    got = embedder.encode(sentences)
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosine = (got * expected).sum(axis=1)
    assert cosine.min() >= 0.99, f"{backend}: lowest cosine {cosine.min():.4f}"
    if backend == "onnx":
        assert cosine.min() >= 0.9999


def test_a_text_embeds_the_same_alone_and_in_a_batch(data_dir: Path):
    embedder = load_embedder(Settings(data_dir=data_dir, embedding_backend="onnx"))
    texts = ["What does a VPMA do?", "A much longer sentence about physician executives and their credentials."]
    together = embedder.encode(texts)
    alone = np.vstack([embedder.encode([t]) for t in texts])
    assert ((together * alone).sum(axis=1) > 0.9999).all()
    assert embedder.encode([]).shape == (0, embedder.dim)


def test_the_export_is_made_once_and_named_apart_from_torch(data_dir: Path):
    settings = Settings(data_dir=data_dir, embedding_backend="onnx")
    first = load_embedder(settings)
    exports = sorted((data_dir / "onnx").iterdir())
    second = load_embedder(settings)
    assert sorted((data_dir / "onnx").iterdir()) == exports
    assert first.name == second.name == f"{settings.model}#onnx" != settings.model


def test_batches_pad_little_and_hold_every_text_once():
    from index.onnx_embedder import PAD_FRACTION, PAD_TOKENS, plan_batches

    lengths = [12, 40, 9, 11, 38, 12, 100, 13, 10, 39, 12] * 9
    batches = plan_batches(lengths, max_rows=16)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        width = max(lengths[i] for i in batch)
        assert len(batch) <= 16
        assert all(width - lengths[i] <= max(PAD_TOKENS, PAD_FRACTION * width) for i in batch)


def test_bulk_mode_embeds_as_serving_does(data_dir: Path):
    embedder = load_embedder(Settings(data_dir=data_dir, embedding_backend="onnx"))
    bulk = embedder.for_bulk()
    texts = guide_sentences()[:80]
    assert bulk.name == embedder.name and embedder.workers == 1
    np.testing.assert_allclose(bulk.encode(texts), embedder.encode(texts), atol=1e-5)


def test_work_alongside_the_model_runs_on_another_thread_and_its_result_comes_back(data_dir: Path):
    """An answer reads its question's words while the model embeds it (`encode_alongside`)."""
    import threading

    from index.embedder import HashingEmbedder, encode_alongside

    embedder = load_embedder(Settings(data_dir=data_dir, embedding_backend="onnx"))
    texts = ["What does a VPMA do?", "Which credential does the AAPL grant?"]
    vectors, (thread, answer) = encode_alongside(embedder, texts, lambda: (threading.current_thread(), 42))
    np.testing.assert_allclose(vectors, embedder.encode(texts), atol=1e-6)
    assert answer == 42 and thread is not threading.current_thread()

    def broken() -> None:
        raise LookupError("the job's own error")

    with pytest.raises(LookupError, match="the job's own error"):
        encode_alongside(embedder, texts, broken)
    empty, result = encode_alongside(embedder, [], lambda: "read")
    assert empty.shape == (0, embedder.dim) and result == "read"
    hashed, (thread, _) = encode_alongside(HashingEmbedder(), texts, lambda: (threading.current_thread(), None))
    assert hashed.shape == (2, 256) and thread is threading.current_thread()


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="per-thread CPU priority is Linux's")
def test_work_alongside_the_model_runs_at_the_priority_of_the_thread_that_asked(data_dir: Path):
    """The server's answer workers run below its event loop; the reading they hand to the model's side thread must
    too, whichever thread started that side thread."""
    import threading

    from index.embedder import encode_alongside

    def priority() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    embedder = load_embedder(Settings(data_dir=data_dir, embedding_backend="onnx"))
    texts = ["What does a VPMA do?"]
    _, first = encode_alongside(embedder, texts, priority)  # starts the side thread at this thread's priority
    seen: list[int] = []

    def lowered() -> None:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), first + 3)
        seen.append(encode_alongside(embedder, texts, priority)[1])

    worker = threading.Thread(target=lowered)
    worker.start()
    worker.join()
    assert seen == [first + 3]
