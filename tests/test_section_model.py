"""The section model the sentence ranker reads: which section a question's embedding belongs to."""

from __future__ import annotations

import numpy as np

from bot.engine import AnswerEngine
from bot.section_model import fit_section_model, section_probabilities
from index.guide_index import GuideIndex


def _clusters(seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    centres = np.eye(8)[:3] * 3
    vectors = np.vstack([centres[i] + rng.normal(scale=0.3, size=(20, 8)) for i in range(3)])
    return vectors, [name for name in ("a", "b", "c") for _ in range(20)]


def test_a_question_is_placed_in_the_section_whose_questions_it_resembles():
    vectors, sections = _clusters()
    params, _ = fit_section_model(vectors, sections)
    probs = section_probabilities(params, np.eye(8)[1] * 3)
    assert max(probs, key=probs.__getitem__) == "b"
    assert abs(sum(probs.values()) - 1.0) < 1e-6


def test_each_bank_questions_training_probabilities_come_from_a_fit_without_it():
    """A question mislabelled into another section's cluster is trusted by a fit that saw it, not by one that didn't:
    the ranker must learn how far to trust the model on questions it has not seen."""
    vectors, sections = _clusters()
    sections[5] = "c"
    params, out_of_fold = fit_section_model(vectors, sections)
    labels = params["labels"]
    in_sample = section_probabilities(params, vectors[5])["c"]
    assert out_of_fold[5, labels.index("c")] < in_sample
    assert out_of_fold[5, labels.index("a")] > 0.5
    assert np.allclose(out_of_fold.sum(axis=1), 1.0)


def test_one_section_is_no_model():
    params, probs = fit_section_model(np.ones((4, 3)), ["a"] * 4)
    assert params == {} and section_probabilities(params, np.ones(3)) == {}
    assert probs.shape == (4, 1)


def test_the_index_carries_a_section_model_over_every_section_of_the_guide(guide_index: GuideIndex):
    model = guide_index.ranker["section_model"]
    assert set(model["labels"]) == set(guide_index.chunk_sections)
    assert "section_model" in guide_index.ranker["features"]


def test_asking_whether_an_md_is_enough_leads_with_the_credentials_not_the_overview(engine: AnswerEngine):
    """Near neighbours in the bank follow wording ("… to become a CMO" is the overview's); the section model reads
    what is asked."""
    for question in ("Is an MD by itself enough to become a CMO?", "What education do you need to become a chief medical officer?"):
        answer = engine.answer(question)
        assert answer.passages[0].source.section == "Essential Educational Credentials", question
        assert answer.lead[0].passage == 0


def test_two_sections_are_a_model_too():
    vectors, sections = _clusters()
    keep = [i for i, s in enumerate(sections) if s != "c"]
    params, _ = fit_section_model(vectors[keep], [sections[i] for i in keep])
    probs = section_probabilities(params, np.eye(8)[1] * 3)
    assert probs["b"] > 0.9 and abs(sum(probs.values()) - 1.0) < 1e-6
