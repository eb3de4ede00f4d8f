"""`guidebot index`: documents → chunks → vectors, FAISS, BM25, banks and the abstention model."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from bot.abstain import ABSTAIN_VERSION, fit_abstention, prepare_fit
from bot.retrieval import NO_LEAD_SCORE, Evidence, question_texts, question_vectors, search
from bot.section_model import fit_section_model
from bot.sentences import RANKER_VERSION, fit_ranker, score, sentence_features
from bot.settings import Settings
from index import dense, lexical
from index.embedder import Embedder, for_bulk
from index.embedding_cache import EmbeddingCache
from index.guide_index import (
    ABSTAIN,
    ACRONYMS,
    BANK,
    BANK_IN_VECTORS,
    BANK_OUT_VECTORS,
    BM25_DIR,
    CHUNKS,
    DENSE,
    ENTITIES,
    RANKER,
    SENTENCE_CONTEXT_VECTORS,
    SENTENCE_VECTORS,
    GuideIndex,
    in_context,
)
from index.persist import (
    MANIFEST,
    Manifest,
    corpus_hash,
    live_target,
    new_build_dir,
    publish,
    read_manifest,
    write_json,
)
from knowledge.acronyms import collect_acronyms, topic_terms
from knowledge.bank import bank_files, load_in_scope, load_out_of_scope
from knowledge.chunking import CHUNKER_VERSION, chunk_documents
from knowledge.entities import ENTITIES_VERSION, derive_entities
from knowledge.loaders import document_paths, load_documents

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuildResult:
    built: bool
    manifest: Manifest
    path: Path
    seconds: float
    reason: str
    texts: int = 0
    """Texts the build needed embedded (chunks, sentences, bank questions)."""
    embedded: int = 0
    """Of those, the ones the model embedded: the rest came from the embedding cache."""


def _questions_dir(settings: Settings) -> Path:
    return settings.knowledge_dir / "questions"


def source_hash(settings: Settings) -> str:
    paths = document_paths(settings.documents_dir) + bank_files(_questions_dir(settings))
    glossary = settings.knowledge_dir / "glossary.yaml"
    if glossary.exists():
        paths.append(glossary)
    return corpus_hash(paths, settings.knowledge_dir, extra=f"{CHUNKER_VERSION}/{ENTITIES_VERSION}/{ABSTAIN_VERSION}/{RANKER_VERSION}")


def needs_build(settings: Settings, model_name: str) -> str | None:
    """Why the index must be rebuilt, or None when it is current."""
    manifest = read_manifest(live_target(settings.index_dir))
    if manifest is None:
        return "no index yet"
    if manifest.model != model_name:
        return f"model changed ({manifest.model} → {model_name})"
    if manifest.chunker_version != CHUNKER_VERSION:
        return "chunker changed"
    if manifest.corpus_hash != source_hash(settings):
        return "documents changed"
    return None


def _entities(docs, chunks, acronyms, settings: Settings) -> dict:
    """Roles and credentials named by the documents, for the summary commands."""
    return derive_entities(docs, chunks, acronyms, settings.knowledge_dir / "glossary.yaml")


def build_index(
    settings: Settings,
    embedder: Embedder,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> BuildResult:
    started = time.perf_counter()
    reason = "forced" if force else needs_build(settings, embedder.name)
    if reason is None:
        manifest = read_manifest(live_target(settings.index_dir))
        assert manifest is not None
        return BuildResult(False, manifest, live_target(settings.index_dir), 0.0, "up to date")
    staged = stage_index(settings, embedder, progress=progress)
    final = publish(staged.path, settings.index_dir, staged.manifest)
    return BuildResult(True, staged.manifest, final, time.perf_counter() - started, reason, staged.texts, staged.embedded)


@dataclass(frozen=True)
class StagedIndex:
    """A complete build not yet published: its directory (`index-….tmp` in the data dir, manifest written)."""

    path: Path
    manifest: Manifest
    texts: int
    embedded: int


def stage_index(settings: Settings, embedder: Embedder, *, progress: Progress | None = None) -> StagedIndex:
    """Build every file of an index from `settings.knowledge_dir` into a new build directory, and stop
    short of publishing it: the staff dashboard's preview answers questions from such a candidate
    before anything goes live, and publishes that very build when staff approve it."""
    step = progress or (lambda _msg: None)
    prepare_fit()  # scikit-learn loads on the side while the model embeds
    step("Reading documents")
    docs = load_documents(settings.documents_dir)
    if not docs:
        raise FileNotFoundError(f"No documents in {settings.documents_dir}")
    chunks = chunk_documents(docs)
    acronyms = collect_acronyms(c.text for c in chunks)
    topic = topic_terms(acronyms, [d.title for d in docs])
    sentences = [s for c in chunks for s in c.sentences]
    sentence_chunk = [i for i, c in enumerate(chunks) for _ in c.sentences]
    contexts = [in_context(c, s) for c in chunks for s in c.sentences]

    qdir = _questions_dir(settings)
    known_sections = {(c.document_id, c.section_slug) for c in chunks}
    in_bank = [q for q in load_in_scope(qdir) if (q.document_id, q.section_slug) in known_sections]
    headings = sorted({(c.document_id, c.section_slug, c.section) for c in chunks if c.section})
    in_texts = [q.text for q in in_bank] + [h[2] for h in headings]
    in_sections = [f"{q.document_id}#{q.section_slug}" for q in in_bank] + [f"{d}#{s}" for d, s, _ in headings]
    in_sentences = [answer_row(chunks, q) for q in in_bank] + [-1] * len(headings)
    out_bank = load_out_of_scope(qdir)

    out_texts = [q.text for q in out_bank]
    in_embedded, in_spans = question_texts(in_texts, acronyms, topic)
    out_embedded, out_spans = question_texts(out_texts, acronyms, topic)
    step(f"Embedding {len(chunks)} chunks, {len(sentences)} sentences and {len(in_texts) + len(out_texts)} bank questions")
    # One call for every text, so the model's batches are as full and as evenly padded as they can be;
    # texts embedded by an earlier build come from the cache.
    parts = [[c.embed_text for c in chunks], sentences, contexts, in_embedded, out_embedded]
    cache = EmbeddingCache.for_embedder(settings.data_dir, embedder)
    vectors = cache.encode(for_bulk(embedder), [text for part in parts for text in part])
    bounds = np.cumsum([0] + [len(part) for part in parts])
    chunk_vectors, sentence_vectors, context_vectors, in_rows, out_rows = (vectors[a:b] for a, b in pairwise(bounds))
    in_vectors = question_vectors(in_rows, in_spans, embedder.dim)
    out_vectors = question_vectors(out_rows, out_spans, embedder.dim)

    term_counts = count_terms(sentences + [q.text for q in in_bank], out_texts)
    step("Building FAISS and BM25")
    dense_index = dense.build_dense(chunk_vectors, settings.hnsw_threshold)
    lexical_index = lexical.build_lexical([c.embed_text for c in chunks])

    build_dir = new_build_dir(settings.data_dir)
    write_json(build_dir / CHUNKS, [c.to_json() for c in chunks])
    dense.save_dense(dense_index, build_dir / DENSE)
    lexical.save_lexical(lexical_index, build_dir / BM25_DIR)
    np.save(build_dir / SENTENCE_VECTORS, sentence_vectors.astype(np.float32))
    np.save(build_dir / SENTENCE_CONTEXT_VECTORS, context_vectors.astype(np.float32))
    np.save(build_dir / BANK_IN_VECTORS, in_vectors.astype(np.float32))
    np.save(build_dir / BANK_OUT_VECTORS, out_vectors.astype(np.float32))
    write_json(
        build_dir / BANK,
        {
            "sentence_chunk": sentence_chunk,
            "in_sections": in_sections,
            "in_sentences": in_sentences,
            "in_texts": in_texts,
            "out_texts": out_texts,
            "topic_terms": topic,
            "term_counts": term_counts,
        },
    )
    write_json(build_dir / ACRONYMS, acronyms)

    manifest = Manifest(
        model=embedder.name,
        dimension=int(embedder.dim),
        chunker_version=CHUNKER_VERSION,
        corpus_hash=source_hash(settings),
        built_at=time.time(),
        chunks=len(chunks),
        documents=len(docs),
        dense_kind=type(dense_index).__name__,
    )
    staged = GuideIndex(
        path=build_dir,
        manifest=manifest,
        chunks=chunks,
        dense=dense_index,
        lexical=lexical_index,
        sentence_vectors=sentence_vectors,
        sentence_chunk=np.asarray(sentence_chunk),
        bank_in=in_vectors,
        bank_in_sections=in_sections,
        bank_out=out_vectors,
        acronyms=acronyms,
        abstain={},
        topic_terms=tuple(topic),
        sentence_context_vectors=context_vectors,
        bank_in_sentences=np.asarray(in_sentences, dtype=np.int64),
        term_counts=term_counts,
        bank_texts=tuple(in_texts) + tuple(out_texts),
    )
    with threadpool_limits(limits=settings.blas_threads or None, user_api="blas"):
        step("Fitting the section model and the sentence ranker on the question bank")
        section_model, staged.bank_in_section_probs = fit_section_model(in_vectors, in_sections)
        staged.ranker = {"section_model": section_model}  # retrieval reads it while the ranker is fitted
        in_evidence = [search(staged, q.text, in_vectors[i], exclude_bank_in=i, ranked=False) for i, q in enumerate(in_bank)]
        in_candidates = [sentence_features(staged, evidence) for evidence in in_evidence]
        staged.ranker.update(fit_sentence_ranker(staged, in_candidates))
        staged.ranker["unmatched_answers"] = [q.text for q, row in zip(in_bank, in_sentences, strict=False) if q.answer and row < 0]
        write_json(build_dir / RANKER, staged.ranker)
        step("Calibrating abstention on the question banks")
        write_json(build_dir / ABSTAIN, calibrate(staged, in_bank, in_evidence, in_candidates, out_texts, out_vectors))
    step("Deriving roles and credentials")
    write_json(build_dir / ENTITIES, _entities(docs, chunks, acronyms, settings))
    write_json(build_dir / MANIFEST, manifest.to_json())
    return StagedIndex(build_dir, manifest, cache.stats.texts, cache.stats.embedded)


def count_terms(in_scope: list[str], out_of_scope: list[str]) -> dict:
    """How many in-scope and out-of-scope texts use each stemmed word (each text counts a word once)."""
    counts: dict[str, list[int]] = {}
    for side, texts in ((0, in_scope), (1, out_of_scope)):
        for terms in lexical.tokenize(texts):
            for term in set(terms):
                counts.setdefault(term, [0, 0])[side] += 1
    return {"_in": len(in_scope), "_out": len(out_of_scope), **{t: tuple(c) for t, c in counts.items()}}


def answer_row(chunks, question) -> int:
    """The sentence row (over all chunks' sentences) holding the bank question's answer phrase, in its section; -1 if none."""
    if not question.answer:
        return -1
    row = 0
    for chunk in chunks:
        in_section = chunk.document_id == question.document_id and chunk.section_slug == question.section_slug
        for sentence in chunk.sentences:
            if in_section and question.answer in sentence:
                return row
            row += 1
    return -1


def fit_sentence_ranker(index: GuideIndex, in_candidates: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    """Each bank question with a named answer, as searched with itself left out of the bank: its candidate
    sentences' rows and features (`sentence_features`), labelled by whether each is the answer.

    Self-training on the other bank questions (labelled with the best sentence of their own
    section by a first fit) was tried and measured no better on the held-out sets.
    """
    features: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    for i, (rows, x) in enumerate(in_candidates):
        answer = int(index.bank_in_sentences[i])
        if answer < 0 or answer not in rows:
            continue
        features.append(x)
        labels.append(rows == answer)
    return fit_ranker(features, labels) if features else {"reason": "no bank question names its answer"}


def calibrate(
    index: GuideIndex,
    in_bank,
    in_evidence: list[Evidence],
    in_candidates: list[tuple[np.ndarray, np.ndarray]],
    out_texts: list[str],
    out_vectors: np.ndarray,
) -> dict:
    """Fit the abstention model: each bank question is scored with itself left out. The in-scope bank is read
    from the sentence ranker's searches and candidate sentences, scored now that it is fitted: searched once, not
    twice. Its best sentence's score is the "lead_score" that `search` gives an answer."""
    rows: list[np.ndarray] = []
    vectors: list[np.ndarray] = []
    in_scope: list[bool] = []
    correct: list[bool] = []
    for question, evidence, (candidates, x) in zip(in_bank, in_evidence, in_candidates, strict=True):
        evidence.features["lead_score"] = float(score(index.ranker, x).max()) if len(candidates) else NO_LEAD_SCORE
        top_sections = list(dict.fromkeys((index.chunks[i].document_id, index.chunks[i].section_slug) for i in evidence.order))[:3]
        rows.append(evidence.vector())
        vectors.append(evidence.query_vector)
        in_scope.append(True)
        correct.append((question.document_id, question.section_slug) in top_sections)
    for i, text in enumerate(out_texts):
        evidence = search(index, text, out_vectors[i], exclude_bank_out=i)
        rows.append(evidence.vector())
        vectors.append(out_vectors[i])
        in_scope.append(False)
        correct.append(False)
    if not any(in_scope) or all(in_scope):
        return {"threshold": None, "reason": "question banks missing: abstention falls back to similarity"}
    params = fit_abstention(np.vstack(rows), np.vstack(vectors), np.array(in_scope), np.array(correct))
    params["bank_retrieval_accuracy"] = float(np.mean([c for c, s in zip(correct, in_scope, strict=True) if s]))
    return params
