"""Focuses the guide never states whose questions the model reads as stated (`bot.engine.UNSTATED_FOCUSES`): what
counts as asking one, and what counts as the documents stating it (which turns its refusal off)."""

from __future__ import annotations

import pytest

from bot.after_the_path import asks_past_the_path, states_past_the_path
from bot.elsewhere import asks_elsewhere, states_elsewhere
from bot.engine import UNSTATED_FOCUSES
from bot.query import sentences_of
from bot.reporting_lines import asks_reporting_line, states_reporting_line
from bot.settings import PROJECT_ROOT

GUIDE = (PROJECT_ROOT / "knowledge" / "documents" / "cmo-career-path.md").read_text(encoding="utf-8")
GUIDE_SENTENCES = [s for line in GUIDE.splitlines() for s in sentences_of(line)]


def test_the_guide_states_none_of_them_so_every_refusal_is_on():
    assert not any(states(GUIDE_SENTENCES) for _, states in UNSTATED_FOCUSES)


def test_a_published_sentence_that_states_one_turns_its_refusal_off():
    assert states_reporting_line(["At the partner hospitals the CMO reports to the CEO."])
    assert states_past_the_path(["Many physicians move into system roles after serving as a CMO."])
    assert states_elsewhere(["In the NHS the equivalent post is the trust medical director."])
    assert not states_reporting_line(["The CQO manages data for public reporting of quality measures."])


@pytest.mark.parametrize(
    "message",
    [
        "To whom does the CMO or VPMA report?",
        "cmo reports to ceo or board?",
        "Who sits above the VPMA?",
        "does the vpma fall under the cmo or is it the other way round",
        "EM doc here, 6 docs report to me. Who does the medical director answer to?",
    ],
)
def test_questions_of_a_reporting_line(message: str):
    assert asks_reporting_line(message)


@pytest.mark.parametrize(
    "message",
    [
        "What does the CMO oversee?",
        "What is the CMO accountable for?",
        "I have 6 docs reporting to me as section chief. Does that count as formal admin experience?",
        "As a medical director reporting to the CMO, what's my next step toward the VPMA role?",
        "Does managing day-to-day staff performance fall under the medical director's responsibilities?",
        "Which quality data does the CQO manage for public reporting?",
    ],
)
def test_the_same_words_asking_something_else(message: str):
    assert not asks_reporting_line(message)


@pytest.mark.parametrize(
    "message",
    [
        "What's the next step after becoming a CMO?",
        "is there a job above cmo at a hospital",
        "I've been CMO for four years. What is the realistic next step for me?",
        "Is the CMO job a dead end?",
    ],
)
def test_questions_of_a_career_past_the_cmo_job(message: str):
    assert asks_past_the_path(message)


@pytest.mark.parametrize(
    "message",
    [
        "How important is my network when going after a CMO job?",
        "What comes after the medical director role on the path to CMO?",
        "Now that I'm CMO at a payer, what should my focus be?",
        "Is the CQO role a good path to CMO or a dead end?",
    ],
)
def test_the_paths_own_steps_and_a_sitting_cmos_questions_on_the_role(message: str):
    assert not asks_past_the_path(message)


@pytest.mark.parametrize(
    "message",
    [
        "How Does the CMO Role Differ From Country to Country?",
        "cmo jobs in india - do hospitals there even care about an mba or mmm",
        "what quality metrics do uk hospitals use instead of hcahps for a cqo type role",
        "Does the CPE count for anything if I move to Australia?",
    ],
)
def test_questions_about_another_countrys_physician_executives(message: str):
    assert asks_elsewhere(message)


@pytest.mark.parametrize(
    "message",
    [
        "Trained in Lagos, now an internist in Houston - what does a VPMA actually do?",
        "I'm originally from India and practise in Ohio. Which degrees do physician execs usually get?",
        "did med school in india, working in ohio now. what extra degree do most physician execs get",
        "What does a CMO at a global pharma company do?",
    ],
)
def test_a_place_in_the_members_own_history_is_context(message: str):
    assert not asks_elsewhere(message)
