"""Typos mended toward the guide's words, and nothing else touched."""

from __future__ import annotations

from bot.engine import AnswerEngine
from bot.spelling import Speller, english_words
from knowledge.acronyms import canonical_names

GUIDE_WORDS = [
    "Contributing to utilization review committees teaches evidence-based medicine.",
    "When preparing for high-level interviews, the focus must shift to strategic vision.",
    "The Medical Director oversees an operating budget.",
    "The VPMA is responsible for clinical governance; the CQO for HCAHPS measures.",
]


def speller() -> Speller:
    return Speller.from_texts(GUIDE_WORDS)


def test_a_misspelt_word_is_mended_into_the_guides_word():
    assert speller().correct("does sitting on the UR committe help?") == "does sitting on the UR committees help?"
    assert speller().correct("any tips for a cmo interveiw") == "any tips for a cmo interviews"
    assert speller().correct("Does the medical director manage a budjet") == "Does the medical director manage a budget"


def test_a_capitalised_typo_stays_capitalised():
    assert speller().correct("Govenance of the medical staff") == "Governance of the medical staff"


def test_english_words_the_guide_never_uses_are_left_alone():
    """Mending "wages" into a guide word would make a pay question look covered."""
    for question in ("what wages does a vpma earn", "is tuition deductible", "how many vacation weeks", "what about bonuses"):
        assert speller().correct(question) == question


def test_acronyms_names_short_words_and_far_typos_are_left_alone():
    for question in ("is the CNIO like a CMIO", "do VPMAs travel", "pts and thx", "Dr. McAllister said so", "what is zqxjkw"):
        assert speller().correct(question) == question


def test_a_clinicians_shorthand_for_a_specialty_or_unit_is_no_typo(engine: AnswerEngine):
    """"gen surg" had been read as "gen sure", "onco" as "once", "endo" as "end", "NICU" as "nice"."""
    for typed in ("gen surg attending", "onco doc", "endo fellow", "nicu director", "peds anes attending", "missed my appt"):
        question = f"{typed} here, how do I become a CMO?"
        assert engine.query(question).lower().split()[: len(typed.split())] == typed.split()


def test_a_clinicians_shorthand_for_a_drug_or_diagnosis_is_no_typo_and_no_ones_word():
    """"meds" had been mended into "med", then read as "medical": "htn first line meds" was answered (0.96) with the
    medical director's "first formal step"."""
    shorthand = Speller.from_texts(GUIDE_WORDS + ["A med director runs the unit."], as_typed=("meds", "afib"))
    assert shorthand.correct("htn first line meds for afib") == "htn first line meds for afib"
    assert shorthand.unknown_share("htn first line meds", frozenset()) == (2, 0.5)
    assert Speller.from_texts(GUIDE_WORDS + ["A med director runs the unit."]).correct("first line meds") == "first line med"


def test_clinical_shorthand_with_the_topics_words_is_refused(engine: AnswerEngine):
    assert engine.answer("htn first line meds").abstained
    assert engine.answer("what does a med dir do").answered


def test_the_dictionary_knows_common_english_and_not_the_typos():
    words = english_words()
    assert {"committee", "interview", "budget", "salary", "vacation"} <= words
    assert not {"committe", "interveiw", "budjet"} & words


def test_a_typo_no_longer_turns_a_covered_question_into_a_refusal(engine: AnswerEngine):
    answer = engine.answer("how should i prepare for a cmo interveiw")
    assert answer.answered
    assert answer.question == "how should i prepare for a cmo interveiw"
    assert "high-level interviews" in answer.passages[0].text
    assert engine.answer("does sitting on the UR committe help?").passages[0].source.section == (
        "Gaining Deep Clinical and Operational Expertise"
    )


def test_a_misspelt_off_topic_question_is_still_refused(engine: AnswerEngine):
    assert engine.answer("whats the averge salery for a cmo").abstained


def test_a_typo_written_into_the_question_banks_is_still_mended_and_their_real_words_are_kept():
    """The banks hold typos on purpose ("chief medical oficer") beside words the guide lacks ("hospitalist", "CMIO")."""
    bank = ["whta does the carrer path to chief medical oficer look like", "What does a CMIO do?", "is a cmio a cmo"]
    bank += ["I'm a hospitalist, is pharma better?"] * 3 + ["the chief medical officer role"] * 20 + ["what is the career path"] * 20
    mended = Speller.from_texts(GUIDE_WORDS, bank, keep=["dept"])
    assert mended.correct("what does a chief medical oficer do") == "what does a chief medical officer do"
    assert mended.correct("the carrer path") == "the career path"
    assert mended.correct("a hospitalist in pharma, what does a cmio do in my dept") == "a hospitalist in pharma, what does a cmio do in my dept"


def test_a_misspelt_chief_medical_officer_is_answered_like_the_spelt_one(engine: AnswerEngine):
    typed = engine.answer("what does a cheif medical oficer do")
    spelt = engine.answer("what does a chief medical officer do")
    assert typed.answered and spelt.answered
    assert typed.lead[0].text == spelt.lead[0].text
    assert typed.question == "what does a cheif medical oficer do"


def test_an_initialism_typed_with_stops_is_answered_like_the_plain_one(engine: AnswerEngine):
    dotted = engine.answer("What's a C.M.O.?")
    plain = engine.answer("What's a CMO?")
    assert dotted.answered and plain.answered
    assert dotted.lead[0].text == plain.lead[0].text


def test_an_initialism_dictated_letter_by_letter_is_answered_like_the_plain_one(engine: AnswerEngine):
    """"a v p m a" had been refused (0.40) and answered with the CMO's scope."""
    spelt = engine.answer("what exactly is a v p m a responsable for at a health sytem")
    plain = engine.answer("what exactly is a VPMA responsible for at a health system")
    assert spelt.answered and spelt.passages[0].source.section == plain.passages[0].source.section == "Vice President of Medical Affairs"
    assert canonical_names("m b a or m h a for a c m o", {"MBA": "", "MHA": "", "CMO": ""}) == "MBA or MHA for a CMO"
    assert canonical_names("plan a b c, i a m a fan", {"MBA": "", "CMO": ""}) == "plan a b c, i a m a fan"


def test_words_no_one_knows_are_counted_and_known_ones_are_not():
    from knowledge.stopwords import ENGLISH_STOP_WORDS

    known = speller()
    assert known.unknown_share("lorem ipsum dolor sit amet for the VPMA", ENGLISH_STOP_WORDS) == (3, 3 / 6)
    assert known.unknown_share("does the Medical Director manage a budget", ENGLISH_STOP_WORDS) == (0, 0.0)
    assert known.unknown_share("is the CNIO like a CMIO", ENGLISH_STOP_WORDS)[0] == 0
    assert known.unknown_share("Dr. Okonkwo at Geisinger asked Ramanathan", ENGLISH_STOP_WORDS)[0] == 0


def test_gibberish_with_the_guides_topic_is_refused_and_a_name_is_no_gibberish(engine: AnswerEngine):
    """The model reads an unknown word as no evidence either way, so "CMO" alone had decided (answered)."""
    assert engine.answer("lorem ipsum dolor sit amet as an aspiring CMO?").abstained
    assert engine.answer("asdkjh qwpoe zzzz for a physician leader?").abstained
    assert engine.answer("Dr. McAllister told me to ask you: what does a VPMA do?").answered
