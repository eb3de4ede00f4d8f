"""Building, persisting and reloading the index (with the instant hashing embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.indexing import build_index, needs_build
from bot.settings import PROJECT_ROOT, Settings
from index import lexical
from bot.embedding import load_embedder
from index.guide_index import load_index
from index.persist import IndexMissingError, live_target, read_manifest
from knowledge.chunking import CHUNKER_VERSION, chunk_documents
from knowledge.loaders import load_documents


def _build(settings: Settings, force: bool = False):
    return build_index(settings, load_embedder(settings), force=force)


def test_a_build_writes_a_manifest_describing_model_corpus_and_chunker(hashing_settings: Settings):
    result = _build(hashing_settings)
    manifest = read_manifest(live_target(hashing_settings.index_dir))
    assert result.built and manifest == result.manifest
    assert manifest.model == "hashing-256" and manifest.dimension == 256
    assert manifest.chunker_version == CHUNKER_VERSION
    assert manifest.chunks == 15 and manifest.documents == 1
    assert len(manifest.corpus_hash) == 64 and manifest.built_at > 0
    assert manifest.dense_kind == "IndexFlatIP"


def test_an_unchanged_corpus_is_not_rebuilt_but_force_rebuilds(hashing_settings: Settings):
    first = _build(hashing_settings)
    second = _build(hashing_settings)
    assert not second.built and second.reason == "up to date"
    assert second.path == first.path
    forced = _build(hashing_settings, force=True)
    assert forced.built and forced.path != first.path
    assert live_target(hashing_settings.index_dir) == forced.path


def test_a_changed_or_added_document_triggers_a_rebuild(hashing_settings: Settings):
    _build(hashing_settings)
    new_doc = hashing_settings.documents_dir / "cmio.md"
    new_doc.write_text(
        "---\nid: cmio\ntitle: Informatics Leadership\n---\n# Informatics Leadership\n\n"
        "## Chief Medical Information Officer\n\nThe Chief Medical Information Officer (CMIO) leads "
        "clinical informatics and the electronic health record strategy.\n",
        encoding="utf-8",
    )
    assert needs_build(hashing_settings, "hashing-256") == "documents changed"
    result = _build(hashing_settings)
    assert result.built and result.manifest.documents == 2
    index = load_index(hashing_settings.index_dir)
    assert index.acronyms["CMIO"] == "Chief Medical Information Officer"


def test_a_changed_model_triggers_a_rebuild(hashing_settings: Settings):
    _build(hashing_settings)
    assert needs_build(hashing_settings, "another-model") == "model changed (hashing-256 → another-model)"


def test_the_live_index_is_swapped_atomically_and_old_builds_are_cleaned(hashing_settings: Settings):
    paths = [_build(hashing_settings, force=True).path for _ in range(4)]
    assert hashing_settings.index_dir.is_symlink()
    assert live_target(hashing_settings.index_dir) == paths[-1]
    remaining = sorted(p.name for p in hashing_settings.data_dir.glob("index-*"))
    assert paths[-1].name in remaining and len(remaining) <= 2
    assert not list(hashing_settings.data_dir.glob("*.tmp"))


def test_a_missing_index_is_a_clear_error_naming_the_command(tmp_path: Path):
    with pytest.raises(IndexMissingError, match="guidebot index"):
        load_index(tmp_path / "index")


def test_a_corrupt_index_is_a_clear_error_naming_the_command(hashing_settings: Settings):
    result = _build(hashing_settings)
    (result.path / "chunks.json").write_text("{not json")
    with pytest.raises(IndexMissingError, match="guidebot index --force"):
        load_index(hashing_settings.index_dir)


def test_an_index_built_with_another_model_is_refused(hashing_settings: Settings):
    _build(hashing_settings)
    with pytest.raises(IndexMissingError, match="configured model"):
        load_index(hashing_settings.index_dir, expected_model="all-MiniLM-L6-v2")


def test_the_abstention_model_and_entities_are_stored_with_the_index(hashing_settings: Settings):
    result = _build(hashing_settings)
    abstain = json.loads((result.path / "abstain.json").read_text())
    assert 0.0 < abstain["threshold"] < 1.0
    assert abstain["coverage_at_threshold"] >= abstain["target_coverage"]
    assert abstain["training"]["in_scope"] > 100 and abstain["training"]["out_of_scope"] > 100
    index = load_index(hashing_settings.index_dir)
    assert index.entities["entities"]


def test_the_abstention_network_is_stored_and_an_index_from_before_it_still_answers(hashing_settings: Settings):
    """An index built before the network joined the logistic model keeps answering, on the logistic model alone,
    until `guidebot index` refits it."""
    from bot.engine import AnswerEngine

    result = _build(hashing_settings)
    path = result.path / "abstain.json"
    abstain = json.loads(path.read_text())
    network = abstain["network"]
    assert len(network["hidden"]) == len(network["mean"]) == len(abstain["mean"])
    assert len(network["coef"]) == len(network["hidden_bias"]) == len(network["hidden"][0])
    embedder = load_embedder(hashing_settings)
    both = AnswerEngine(load_index(hashing_settings.index_dir), embedder).answer("What does a CMO do?")
    path.write_text(json.dumps({k: v for k, v in abstain.items() if k != "network"}))
    alone = AnswerEngine(load_index(hashing_settings.index_dir), embedder).answer("What does a CMO do?")
    assert 0.0 <= alone.confidence <= 1.0 and 0.0 <= both.confidence <= 1.0
    assert alone.confidence != both.confidence


def test_a_large_corpus_gets_an_approximate_hnsw_index(hashing_settings: Settings):
    settings = hashing_settings.model_copy(update={"hnsw_threshold": 10})
    result = _build(settings)
    assert result.manifest.dense_kind == "IndexHNSWFlat"


def test_a_rebuild_embeds_only_the_texts_an_edit_changed(hashing_settings: Settings):
    first = _build(hashing_settings)
    # A fresh build embeds every distinct text once (two questions may read the same once normalised).
    assert 300 < first.embedded <= first.texts and first.texts - first.embedded < 10
    forced = _build(hashing_settings, force=True)
    assert forced.embedded == 0
    document = next(hashing_settings.documents_dir.glob("*.md"))
    document.write_text(document.read_text(encoding="utf-8") + "\nBoards also ask physician executives about strategy.\n", encoding="utf-8")
    edited = _build(hashing_settings)
    assert edited.built and 0 < edited.embedded <= 5
    fresh = hashing_settings.model_copy(update={"data_dir": hashing_settings.data_dir.parent / "fresh"})
    _build(fresh)
    cached, uncached = load_index(hashing_settings.index_dir), load_index(fresh.index_dir)
    assert cached.bank_in.shape == uncached.bank_in.shape
    assert abs(cached.bank_in - uncached.bank_in).max() < 1e-6
    assert abs(cached.sentence_vectors - uncached.sentence_vectors).max() < 1e-6


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(list("abcdeéßİ XYZ019_-'’.,?!\n\tÅ")), max_size=80) | st.text(max_size=60))
def test_one_question_is_tokenized_as_bm25s_tokenizes_a_batch(text: str):
    assert lexical.tokenize_one(text) == lexical.tokenize([text])[0]


def test_the_guides_own_sentences_tokenize_the_same_one_at_a_time():
    sentences = [s for c in chunk_documents(load_documents(PROJECT_ROOT / "knowledge" / "documents")) for s in c.sentences]
    assert [lexical.tokenize_one(s) for s in sentences] == lexical.tokenize(sentences)


@pytest.mark.parametrize(
    "question",
    ["What does a VPMA do?", "Which credential is from the AAPL?", "How long does the MMM take, and is it worth it for a hospitalist?", "zzz"],
)
def test_the_rankers_word_overlap_from_postings_is_the_overlap_of_each_sentence(guide_index, question: str):
    """The sentence ranker reads a question's words in each chunk's postings; every candidate sentence must score
    as if its own words were read."""
    from bot.sentences import _idf_overlap, _lexical_overlap

    chunks = list(range(len(guide_index.chunks)))
    sizes = [end - start for start, end in map(guide_index.sentence_rows, chunks)]
    query = frozenset(lexical.tokenize_one(question))
    total = sum(guide_index.idf.get(t, guide_index.max_idf) for t in query)
    rows = range(int(guide_index.chunk_sentence_offsets[-1]))
    expected = [_idf_overlap(query, guide_index.sentence_terms(r), guide_index.idf, total) for r in rows]
    assert _lexical_overlap(guide_index, chunks, sizes, query, guide_index.idf, total) == pytest.approx(expected, abs=1e-12)
    assert any(expected) or question == "zzz"


def test_a_question_s_cosines_read_the_same_whether_the_guide_is_multiplied_whole_or_its_candidates_gathered(
    hashing_settings: Settings,
):
    """A small guide's sentences and chunks are multiplied with the question in one product, a large one's candidate
    sentences are gathered first and its chunks searched with FAISS: the same cosines, the same nearest chunks."""
    import numpy as np

    from index import dense
    from index.guide_index import QuestionCosines

    _build(hashing_settings)
    index = load_index(hashing_settings.index_dir)
    q_vec = load_embedder(hashing_settings).encode(["Which credential is from the AAPL?"])[0]
    rows = np.array([5, 0, 7, 3, len(index.sentence_vectors) - 1])
    expected = np.asarray(index.sentence_vectors)[rows] @ q_vec
    expected_in_context = np.asarray(index.sentence_context_vectors)[rows] @ q_vec
    whole = index.cosines(q_vec)
    gathered = QuestionCosines(index, q_vec)
    assert whole.whole is not None and gathered.whole is None
    for got in (whole, gathered):
        np.testing.assert_allclose(got.sentences(rows), expected, atol=1e-6)
        np.testing.assert_allclose(got.sentences(rows, in_context=True), expected_in_context, atol=1e-6)
    assert not np.allclose(expected, expected_in_context)
    scores, ids = dense.search_dense(index.dense, q_vec[None, :], 4)
    for got in (whole, gathered):
        near_scores, near_ids = got.nearest_chunks(4)
        assert near_ids.tolist() == ids[0].tolist()
        np.testing.assert_allclose(near_scores, scores[0], atol=1e-6)


def test_the_abstention_model_answering_reads_is_the_one_the_fit_scored(hashing_settings: Settings):
    """Answering and the fit's held-out folds read the models folded (`bot.abstain.fold`): each model's
    standardisation and the embedding's weight in its weights. They must compute what the fitted models compute on
    the standardised design rows they were fitted on, with the network and without."""
    import numpy as np

    from bot.abstain import design, fold, in_scope_probability, probabilities

    def sigmoid(z: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-z))

    def as_fitted(model: dict, x: np.ndarray) -> np.ndarray:
        logistic = sigmoid((x - np.array(model["mean"])) / np.array(model["scale"]) @ np.array(model["coef"]) + model["intercept"])
        net = model.get("network")
        if not net:
            return logistic
        standardised = (x - np.array(net["mean"])) / np.array(net["scale"])
        hidden = np.maximum(standardised @ np.array(net["hidden"]) + np.array(net["hidden_bias"]), 0)
        return (logistic + sigmoid(hidden @ np.array(net["coef"]) + net["intercept"])) / 2

    _build(hashing_settings)
    params = load_index(hashing_settings.index_dir).abstain
    assert params.get("network")
    rng = np.random.default_rng(7)
    for model in (params, {k: v for k, v in params.items() if k != "network"}):
        features = rng.normal(size=(20, len(model["features"])))
        vectors = rng.normal(size=(20, len(model["mean"]) - len(model["features"])))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        expected = as_fitted(model, design(features, vectors))
        np.testing.assert_allclose(probabilities(fold(model), np.hstack([features, vectors])), expected, atol=1e-12)
        for row, vector, want in zip(features, vectors, expected, strict=True):
            named = dict(zip(model["features"], row.tolist(), strict=True))
            assert in_scope_probability(model, named, vector.astype(np.float32)) == pytest.approx(float(want), abs=1e-6)
