"""What a member gets back for a question: quoted passages with sources, or a plain abstention."""

from __future__ import annotations

import pytest

from bot.answer import Answer
from bot.engine import AnswerEngine
from bot.evaluation import read_jsonl
from bot.retrieval import dense_text, focus_odds
from bot.settings import PROJECT_ROOT
from index import lexical

GUIDE = (PROJECT_ROOT / "knowledge" / "documents" / "cmo-career-path.md").read_text(encoding="utf-8")


def test_a_do_question_finds_the_osteopathic_medicine_sentence(engine: AnswerEngine):
    answer = engine.answer("Can a DO become a CMO?")
    assert answer.answered
    top = answer.passages[0]
    assert "Doctor of Osteopathic Medicine (DO)" in top.text
    assert top.source.section == "Essential Educational Credentials"
    assert "Doctor of Osteopathic Medicine (DO)" in top.best_sentence


def test_passages_are_verbatim_quotes_with_a_source_a_member_understands(engine: AnswerEngine):
    answer = engine.answer("What does a Vice President of Medical Affairs do?")
    assert answer.answered and answer.answer_id
    top = answer.passages[0]
    for paragraph in top.text.split("\n\n"):
        assert paragraph in GUIDE
    assert top.best_sentence in top.text
    assert top.source.label == "How to Become a Chief Medical Officer: A Career Path › Vice President of Medical Affairs"
    assert "clinical governance" in top.text


def test_passages_come_from_different_sections_and_only_where_they_add_something(engine: AnswerEngine):
    answer = engine.answer("What is the Master of Medical Management?")
    sections = [p.source.section for p in answer.passages]
    assert len(sections) == len(set(sections))
    assert 1 <= len(sections) < 3, sections
    assert "Master of Medical Management (MMM)" in answer.passages[0].text
    assert "Master of Medical Management (MMM)" in answer.lead[0].text


def test_an_answer_leads_with_the_guides_answering_sentences_verbatim_and_cited(engine: AnswerEngine):
    answer = engine.answer("Which role deals with HCAHPS scores?")
    assert answer.answered
    assert 1 <= len(answer.lead) <= 2
    assert sum(len(s.text) for s in answer.lead) + len(answer.lead) - 1 <= 450
    assert any("HCAHPS" in s.text for s in answer.lead)
    for sentence in answer.lead:
        assert sentence.text in answer.passages[sentence.passage].text
        assert sentence.text in GUIDE
    assert answer.passages[answer.lead[0].passage].source.section == "Chief Quality Officer"


def test_the_topic_reads_the_same_however_it_is_spelt(engine: AnswerEngine):
    answers = engine.answer_many(["What does a CMO do?", "What does a Chief Medical Officer do?", "what does a chief med officer do"])
    assert all(a.answered for a in answers), [a.confidence for a in answers]
    assert len({a.lead[0].text for a in answers}) == 1
    assert answers[0].confidence == pytest.approx(answers[1].confidence)


def test_a_description_of_the_top_job_is_answered_and_refused_as_the_name_is(engine: AnswerEngine):
    """"The top doc" for "the CMO": the answer and the decision to answer are the name's, whichever way it is put."""
    described = engine.answer_many(["What does the top doc at a hospital do?", "How much does the top physician executive at a hospital make?"])
    named = engine.answer_many(["What does the CMO at a hospital do?", "How much does the CMO at a hospital make?"])
    assert [a.answered for a in described] == [a.answered for a in named] == [True, False]
    assert described[0].lead[0].text == named[0].lead[0].text
    assert described[1].confidence == pytest.approx(named[1].confidence)


def test_a_near_twin_of_a_covered_bank_question_that_adds_an_off_topic_focus_is_judged_on_its_own(engine: AnswerEngine):
    """The bank's "mmm vs mba?? which one" is answered; asked again with what it costs and how long it takes, the
    question is one the guide does not answer, though its cosine to the bank's is 0.95."""
    twin, asked = engine.answer_many(["mmm vs mba?? which one", "mmm vs mba — which one is cheaper + faster to finish"])
    assert twin.answered
    assert not asked.answered
    assert asked.confidence < 0.5


def test_words_that_ask_nothing_do_not_part_a_question_from_its_twin(engine: AnswerEngine):
    """"Which is better, MHA or MBA?" is the bank's "mha vs mba?" with "which" and "better" added: how a member
    asks, not what about. "Which" leans out of scope in the banks' counts (the off-topic bank asks "which school"
    often), and it had made the question no twin of a covered one, left to the model at 0.48."""
    query = engine.query("Which is better, MHA or MBA?")
    vectors, _, readings = engine.encode_with_asks([query])
    evidence = engine.evidence(query, vectors[0], readings[0].wording)
    assert engine.index.bank_texts[int(evidence.bank_in_nearest[0][0])].lower() == "mha vs mba?", "pick another twin"
    assert engine.same_focus_as_twin(evidence)
    assert all(a.answered for a in engine.answer_many(["mha vs mba?", "Which is better, MHA or MBA?"]))


@pytest.mark.parametrize(
    "typed",
    [
        "hey! what does a cmo do? thanks 🙏",
        "Hi guidebot, what does a CMO do?",
        "Hello! Quick question: what does a CMO do? Thanks so much!",
        "good morning all - what does a cmo do? thx",
        "guidebot, what does a cmo do?",
        "@guidebot what does a cmo do",
        "WHAT DOES A CMO DO?",
        "Respected sir, what does a CMO do?",
        "Dear bot, what does a CMO do?",
        "what does a CMO do, sir?",
        "Hello madam, what does a CMO do? Thank you sir.",
    ],
)
def test_greetings_thanks_emoji_and_shouting_around_a_question_change_nothing(engine: AnswerEngine, typed: str):
    """Small talk once counted as what was asked ("hey", "thanks"), and a basic question was refused at 0.11."""
    plain = engine.answer("what does a cmo do?")
    answer = engine.answer(typed)
    assert answer.answered, answer.confidence
    assert [s.text for s in answer.lead] == [s.text for s in plain.lead]
    assert answer.question == typed


def test_greetings_and_thanks_do_not_make_an_uncovered_question_covered(engine: AnswerEngine):
    assert engine.answer("hi! who does the CMO report to? thx").abstained
    assert engine.answer("Hey, what's the salary of a CMO? thanks 🙏").abstained
    assert engine.answer("Respected sir, what is the salary of a CMO, sir?").abstained


def test_a_covered_question_addressed_to_sir_is_answered_as_it_would_be_without(engine: AnswerEngine):
    """"sir" read as the question's own word: "In pharma company what is the work of CMO, sir?" was refused at 0.27,
    and answered at 0.67 without it."""
    answer = engine.answer("In pharma company what is the work of CMO, sir?")
    assert answer.answered, answer.confidence
    assert answer.lead[0].text.startswith("Within a pharmaceutical or biotechnology company")


def test_context_about_the_cmo_path_does_not_make_an_off_topic_question_covered(engine: AnswerEngine):
    """The context sentence alone made these read as covered (confidence 0.89 and 0.66)."""
    assert engine.answer("I'm on the CMO path. Who is the president of France?").abstained
    assert engine.answer("Been thinking about my career lately. How do I become a software engineer?").abstained
    covered = engine.answer("Been on QI committees for years. How do I move into a formal leadership role?")
    assert covered.answered and covered.confidence > 0.5
    leaning = engine.answer("My mentee wants to be a CMO and asks whether the MBA is the only degree that makes sense. What should I tell her?")
    assert leaning.answered


def test_the_asking_sentence_decides_whatever_context_comes_before_it(engine: AnswerEngine):
    """Context on the guide's ground carried these off-topic questions over the bar (0.53 to 0.98) and context
    off it dragged these on-topic ones under (0.00 to 0.34): judged on the whole message, the context decided."""
    off_topic = [
        "Medical director of our cardiology service line, aiming for VPMA next. Is an online MHA respected as much as an in-person one?",
        "As a hospitalist who wants to become a chief medical officer, I've been reading about physician leadership. How did the CPE come about?",
        "I'm on the path from medical director to CMO and building my executive skills. Which HCAHPS measures get reported on Hospital Compare?",
    ]
    on_topic = [
        "Our group just got bought by a private equity firm and morale is terrible. What's the final step before landing a CMO role?",
        "Nurses on my unit are striking next week, total mess. Do CMOs need to understand P&L statements?",
        "We just got acquired by a private equity group and everything is chaos. What does a VPMA do?",
    ]
    assert [a.question for a in engine.answer_many(off_topic) if a.answered] == []
    assert [a.question for a in engine.answer_many(on_topic) if a.abstained] == []


def test_context_that_runs_into_a_one_sentence_question_does_not_decide_it(engine: AnswerEngine):
    """Judged whole, the context carried these over the bar (0.81 and 0.68), answered with the QI committee's
    sentence; the question after the colon or dash is what the member asks."""
    off_topic = [
        "internist on the path to CMO, 10 yrs in, chair of our QI committee: who does the CMO report to?",
        "hospitalist here, QI committee chair, aiming for CMO - does a CMO still see patients?",
        "EM doc on the path to the c-suite, loving the QI work - what's a typical CMO bonus?",
    ]
    assert [a.question for a in engine.answer_many(off_topic) if a.answered] == []
    covered = engine.answer("family doc, ten years in, running our UR committee - should I go for the CPE?")
    assert covered.answered and covered.passages[0].source.section == "Essential Educational Credentials"


def test_a_condition_about_becoming_a_cmo_does_not_carry_the_question_after_it(engine: AnswerEngine):
    """"if i eventually become a cmo" leans on the guide's ground and carried whether CMOs keep practising over the
    bar (0.85, answered with the decade of clinical practice); the question names its role and is judged alone."""
    chatty = (
        "so i'm a cardiologist, 12 yrs, and i really love my cath lab days. if i eventually become a cmo, "
        "do cmos usually keep some clinical practice or do you have to give up seeing patients entirely?"
    )
    assert engine.answer(chatty).abstained
    covered = engine.answer("If I want to become a CMO, what degree do I need?")
    assert covered.answered and covered.passages[0].source.section == "Essential Educational Credentials"


def test_a_formal_letter_is_answered_as_its_request_and_refused_as_one(engine: AnswerEngine):
    """Written as to a program office, with "Kindly advise …" for a question mark, a covered question had its context
    sentence taken for what it asked: of a blind set of such letters 38 % of the covered ones were answered."""
    covered = engine.answer(
        "Dear team, kindly advise what the Vice President of Medical Affairs is chiefly responsible for. I am writing to "
        "enquire as our organisation is creating this post and I may apply. I shall be grateful for your guidance. "
        "Regards, Dr. Mehta"
    )
    assert covered.answered and covered.passages[0].source.section == "Vice President of Medical Affairs"
    off_topic = engine.answer(
        "Dear team, I would be grateful if you could kindly share the typical salary package for the post of CMO in a "
        "mid-sized hospital, including bonus. Thanks and regards, Dr. Banerjee"
    )
    assert off_topic.abstained


def test_a_long_messages_closing_question_that_points_back_leaves_the_context_to_lead_retrieval(engine: AnswerEngine):
    """"Is that actually the usual route …?" asks about the business degree named before it: added to the query on its
    own, it read as a question about the CMO path and led with the guide's overview."""
    answer = engine.answer(
        "I'm a nephrologist about ten years in and my department chair keeps pushing me toward a business degree. "
        "Is that actually the usual route for people who end up as CMO?"
    )
    assert answer.answered
    assert answer.passages[0].source.section == "Essential Educational Credentials"


def test_an_initialism_the_guide_never_spells_out_is_understood(engine: AnswerEngine):
    answer = engine.answer("Which credential is from the AAPL?")
    assert answer.answered
    assert any("American Association for Physician Leadership" in s.text for s in answer.lead)


def test_a_life_sciences_company_is_the_guides_pharmaceutical_or_biotechnology_company(engine: AnswerEngine):
    answer = engine.answer("What does a CMO at a life sciences company do?")
    assert answer.answered
    assert answer.lead[0].text.startswith("Within a pharmaceutical or biotechnology company, the CMO guides clinical research")
    assert engine.answer("How do I become a medical science liaison?").abstained


def test_a_committee_typed_as_cmte_is_a_committee_not_continuing_medical_education(engine: AnswerEngine):
    """Mended one keystroke away, "cmte" read as "CME", a word of the off-topic bank, and the question was refused."""
    answer = engine.answer("worth joining the QI cmte if i want admin roles later? what do u learn there")
    assert answer.answered
    assert any("quality improvement (QI) committees" in s.text for s in answer.lead)


def test_questions_whose_focus_the_guide_never_mentions_are_refused_though_their_topic_is_its(engine: AnswerEngine):
    questions = [
        "To whom does the CMO or VPMA report?",
        "Why hire an interim chief medical officer?",
        "What specialties lend themselves to hospital leadership?",
        "How much does a chief medical officer make?",
        "What does a chief nursing officer do?",
    ]
    answers = engine.answer_many(questions)
    assert [a.question for a in answers if a.answered] == []
    assert all(a.lead == () and a.suggestions for a in answers)


def test_a_survey_question_about_the_readers_own_organization_is_refused_and_a_pages_generic_your_is_not(engine: AnswerEngine):
    """"Is your organization planning to add a CQO?" asks what only the reader knows; the model read it as covered
    (0.91), as it did "Does your health system have a chief quality officer yet?" (0.50). "your hospital's CMO" is a
    page's way of saying "a hospital's CMO"."""
    *survey, generic = engine.answer_many(
        ["Is your organization planning to add a CQO?", "Does your health system have a chief quality officer yet?", "What does your hospital's CMO oversee?"]
    )
    assert [a.question for a in survey if a.answered] == []
    assert all(a.suggestions for a in survey)
    assert generic.answered
    assert generic.passages[0].source.section == "Understanding the Scope of the Chief Medical Officer Role"


def test_asking_which_search_firms_or_another_professions_path_is_refused_and_asking_about_headhunters_is_not(engine: AnswerEngine):
    """The model read the guide's own words in these (0.66, 0.67 and 0.85 answered): the guide names no firm and is
    written for physicians."""
    *edge, covered = engine.answer_many(
        [
            "which executive search firms are the big ones for CMO searches?",
            "any path for NPs or PAs into a chief medical officer seat?",
            "NP with 15 years experience - what executive titles are actually open to advanced practice providers in a health system?",
            "should I be talking to headhunters if I want a CMO job eventually?",
        ]
    )
    assert [a.question for a in edge if a.answered] == []
    assert covered.answered
    assert covered.passages[0].source.section == "Strategic Networking and C-Suite Recruitment"


def test_lowercase_acronyms_are_understood(engine: AnswerEngine):
    assert engine.answer("what does a vpma do").passages[0].source.section == "Vice President of Medical Affairs"
    assert engine.answer("cqo responsibilities?").passages[0].source.section == "Chief Quality Officer"


def test_questions_the_guide_does_not_cover_are_refused_with_nearest_sections(engine: AnswerEngine):
    for question in (
        "What's the weather in Boston tomorrow?",
        "What is the maximum daily dose of acetaminophen?",
        "How much does a hospital CMO get paid?",
        "Can I deduct my MBA tuition from my taxes?",
        "Tell me a joke about surgeons",
        "xqzv blorft wibble",
    ):
        answer = engine.answer(question)
        assert answer.abstained and answer.reason == "out_of_scope", question
        assert not answer.passages
        assert "doesn't cover" in answer.message
        assert answer.suggestions
        assert all(f"# {s}" in GUIDE or f"## {s}" in GUIDE for s in answer.suggestions)


def test_an_empty_question_gets_a_clear_message(engine: AnswerEngine):
    for text in ("", "   \n\t ", "<p><br></p>"):
        answer = engine.answer(text)
        assert answer.abstained and answer.reason == "empty"
        assert "help" in answer.message


def test_a_twenty_thousand_character_paste_is_answered_without_error(engine: AnswerEngine):
    question = "I run our QI committee and I want to know which degree helps me move up. " * 280
    assert len(question) > 20_000
    answer = engine.answer(question)
    assert len(answer.question) <= 2000
    assert isinstance(answer, Answer)


def test_control_characters_and_markup_are_harmless(engine: AnswerEngine):
    answer = engine.answer("<b>Hi</b> <script>alert(1)</script> what does a \x00medical\x07 director do?")
    assert "<b>" not in answer.question and "<script>" not in answer.question
    assert "\x00" not in answer.question
    assert answer.answered
    assert answer.passages[0].source.section == "Medical Director Roles"


def test_a_batch_is_answered_in_order(engine: AnswerEngine):
    questions = ["What is the MMM?", "What is the weather?", "What does a CQO do?"]
    answers = engine.answer_many(questions)
    assert [a.question for a in answers] == questions
    assert [a.answered for a in answers] == [True, False, True]


def test_a_lead_sentence_that_points_back_is_read_after_the_one_it_points_to(engine: AnswerEngine):
    answer = engine.answer("Which role deals with HCAHPS scores?")
    texts = [s.text for s in answer.lead]
    assert texts[1].startswith("This includes managing data related to measures like HCAHPS")
    assert f"{texts[0]} {texts[1]}" in GUIDE and "CQO" in texts[0]


def test_a_lead_sentence_that_only_adds_to_the_one_before_comes_first(engine: AnswerEngine):
    """A sentence opening "Additionally, …" means what it says on its own: the member's first line is the
    answer, not the sentence about the MHA before it."""
    for question in ("What is the CPE?", "Which credential is from the AAPL?"):
        lead = engine.answer(question).lead
        assert lead[0].text.startswith("Additionally, the Certified Physician Executive (CPE) credential"), question


def test_the_answer_json_has_the_documented_shape(engine: AnswerEngine):
    data = engine.answer("What is capitation?").to_json()
    assert {"question", "answered", "lead", "passages", "suggestions"} <= data.keys()
    assert data["lead"] and all({"text", "passage"} == set(s) for s in data["lead"])
    assert data["lead"][0]["passage"] == 1 and data["lead"][0]["text"] in data["passages"][0]["text"]
    passage = data["passages"][0]
    assert {"text", "document", "section", "source", "score"} <= passage.keys()
    assert "fixed payment per patient" in data["passages"][0]["text"]


def test_a_question_about_reporting_lines_is_refused_though_chatty_context_about_politics_precedes_it(engine: AnswerEngine):
    """"Politics" is the guide's word (its "political landscape"); the question after the dash is about reporting lines."""
    answer = engine.answer(
        "EM doc, 14 yrs, interviewing for my first exec role next month. nervous about the politics - "
        "at most systems does the chief medical officer report to the ceo or straight to the board?"
    )
    assert answer.abstained and answer.reason == "out_of_scope"


@pytest.mark.parametrize(
    "question",
    [
        "Who oversees the CMO?",
        "Who is the CMO accountable to?",
        "who does the vp of medical affairs work for",
        "Is the medical director accountable to the CMO?",
        "whos above the vpma in the org chart",
        "Quick one - is the VPMA my boss if I'm a service line medical director?",
    ],
)
def test_a_question_about_whom_a_role_reports_to_is_refused_however_it_is_worded(engine: AnswerEngine, question: str):
    """The embedding does not read direction: "Who oversees the CMO?" sits beside "What does the CMO oversee?" and was
    answered at 0.97 with the CMO's duties; "Who is the CMO accountable to?" beside "What is the CMO accountable for?"."""
    answer = engine.answer(question)
    assert answer.abstained and answer.reason == "out_of_scope", answer.lead
    assert answer.suggestions, "a refusal still points to the nearest sections"


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("What does the CMO oversee?", "primarily oversees clinical quality"),
        ("Who oversees clinical quality in a hospital?", "primarily oversees clinical quality"),
        ("What is a medical director responsible for?", "establishing clinical protocols"),
        (
            "As a medical director reporting to the CMO, what's my next step toward the VPMA role?",
            "Vice President of Medical Affairs",
        ),
        ("My boss suggested an MBA. Which degrees are common for physician executives?", "Master of Business Administration"),
        (
            "Does managing day-to-day staff performance fall under the medical director's responsibilities?",
            "managing day-to-day staff performance",
        ),
    ],
)
def test_the_words_of_a_reporting_line_in_other_senses_are_answered(engine: AnswerEngine, question: str, phrase: str):
    """What a role oversees or answers for, and a member's own reporting line told as context, are the guide's."""
    answer = engine.answer(question)
    assert answer.answered, answer.confidence
    assert any(phrase in s.text for s in answer.lead), [s.text for s in answer.lead]


@pytest.mark.parametrize(
    "question",
    [
        "What's the next step after becoming a CMO?",
        "is there a job above cmo at a hospital",
        "I've been CMO at a 300-bed community hospital for four years. What is the realistic next step for someone like me?",
        "board seats after cmo - how do ppl land those",
    ],
)
def test_a_question_about_a_career_past_the_cmo_job_is_refused(engine: AnswerEngine, question: str):
    """The guide's path ends at landing the job ("to secure a CMO placement"); the model read "the next step after
    becoming a CMO" as a step of the path (0.99) and a sitting CMO's next step as the CMO's duties (0.98)."""
    answer = engine.answer(question)
    assert answer.abstained and answer.reason == "out_of_scope", answer.lead


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("what's the next step after being a medical director?", "significant increase in scope"),
        ("After Medical Director: what's the next rung on the CMO ladder?", "significant increase in scope"),
        ("what role comes before VPMA?", "first formal step into management"),
        ("what should come before the medical director job?", "quality improvement (QI) committees"),
        ("been a medical director for 4 yrs, whats next on the path to CMO", "VPMA"),
    ],
)
def test_a_question_of_what_comes_after_or_before_a_step_leads_with_the_step_beside_it(engine: AnswerEngine, question: str, phrase: str):
    """The ranker read the named step's own sentence ("A Medical Director role often serves as the first formal step
    …") as the answer to what comes after it (`bot.successor`)."""
    answer = engine.answer(question)
    assert answer.answered, answer.confidence
    assert phrase in answer.lead[0].text, [s.text for s in answer.lead]


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("What's the final stage before landing a CMO job?", "The final stage of the career path"),
        ("Which role is a direct path to CMO?", "direct path to CMO"),
        ("How important is my network when going after a chief medical officer job?", "C-suite level network"),
        ("Now that I'm CMO at a payer, what should my focus be?", "utilization management"),
        ("I'm now a hospital CMO. What does my role primarily oversee?", "primarily oversees clinical quality"),
    ],
)
def test_the_paths_own_steps_and_a_sitting_cmos_question_on_the_role_are_answered(engine: AnswerEngine, question: str, phrase: str):
    answer = engine.answer(question)
    assert answer.answered, answer.confidence
    assert any(phrase in s.text for s in answer.lead), [s.text for s in answer.lead]


EDGES = {
    "reporting_lines": (0.97, 0.96),
    "clinical_practice": (0.97, 0.97),
    "specialties": (0.92, 0.87),
    "interim_and_other_titles": (0.97, 0.97),
    "pay_and_logistics": (0.97, 0.95),
    "adjacent_topics": (0.97, 0.92),
    "search_and_networking": (0.95, 0.90),
    "after_the_cmo_job": (0.97, 0.94),
    "other_countries_and_professions": (0.95, 0.97),
    "specialties_told_and_asked": (0.97, 0.97),
    "credentials": (0.91, 0.93),
    "management_terms": (0.84, 0.88),
    "which_role": (0.98, 0.97),
    "quantities": (0.86, 0.96),
    "trends": (0.96, 0.92),
    "next_step": (0.83, 0.95),
}
"""Floors (on-topic answered, off-topic refused), one question under each class's first measurement; after the CMO job's
refused floor is a question lower since the twenty-third round's bank questions (docs/EVALUATION-LOG.md)."""


@pytest.mark.parametrize("edge", EDGES)
def test_blind_writers_questions_at_the_guides_edge_are_refused_and_their_look_alikes_answered(engine: AnswerEngine, edge: str):
    """For each focus the issue names at the guide's edge, writers who read only the guide wrote questions on it that
    the guide does not answer, and as many it does answer in the same words ("what does the CMO oversee", "as a
    radiologist, which degree…", "what does a CMO need to know about capitation"). None is in a bank. Reporting lines
    (three writers, 133 and 132; the rule of `bot.reporting_lines` was written on the first two, the third kept
    blind): the model alone refused 113, with the rule 130, and answered 130 either way. The others (40 and 40 each)
    were first measured at 40/40 and 40/40 (clinical practice), 36/40 refused and 38/40 answered (specialties: "Do
    pathologists face particular barriers in reaching the C-suite?" answered at 0.97), 40/40 and 40/40 (interim roles
    and other titles), 39/40 and 40/40 (pay and logistics), 38/40 and 40/40 (healthcare management in general, as public
    pages ask it, against what the guide says of the same concepts), 37/40 and 39/40 (executive search and networking:
    recruiters' fees, interview logistics, against why a network and search firms matter). A career past the CMO job (two
    writers, 79 and 80; the rule of `bot.after_the_path` was written on the first, the second kept blind): the model
    alone refused 67 (36 of the blind 40), with the rule 77 (38), and answered 79 either way. Other countries and
    professions (two writers, 80 and 80; `bot.elsewhere` written on the first, the second kept blind): refused 74, with
    the rule 79 (39 of 40 blind either way), and answered 77 (74 before asking "each one" or "the difference" was read
    as leaning on the context). Specialties told as context and asked about (three writers, 140 and 140;
    `bot.specialties` written on the first two, the third kept blind): refused 128, with the rule 137 (the blind third
    36 → 38 of 40; its two misses, one field asked about as a route, then became the rule's last pattern), answered 138. Credentials in every wording (45 and 45): answered 41, 42
    with seven in-scope bank questions on certifications, refused 43. Management terms the guide names (45 and 45):
    answered 39, refused 41: "Which type of CMO focuses on utilization management?" sits at 0.93 from the off-topic
    bank's "What are the principal kinds of utilization management?". Which role, setting or credential a duty belongs to
    (two writers, 95 and 85; the second kept blind while 19 in-scope and 25 off-topic bank questions of that shape were
    written): the blind second answered 44 → 45 of 45 and refused 42 → 44 of 45, with "the VA" now a setting of
    `bot.elsewhere` (and a public health department and a CRO since); both together answer 95 and refuse 81, and 83 with
    `bot.other_functions` (which executive owns HR, GME …). A third writer's 30 and 30, blind to both: answered 29,
    refused 30, with the rule or without it. Quantities (30 and 30: "how many years of practice" and "how big a jump"
    beside budget sizes, shares of CMOs, program lengths and tenure): answered 27 with `bot.quantities` or without it,
    refused 29 → 30; its times were narrowed on this set, which first lost "How Many Years Out Does a CMO's Strategic
    Planning Cover?" (the guide's "multi-year plans"). How the field is changing (25 and 25, blind to `bot.trends`, which was
    written on real V and real W's misses): answered 25 either way, refused 22 → 24. What comes next or before on the
    path (two writers, 60 and 20): answered 51, refused 18 → 20 once a sitting CMO's "what comes next" and one "done as
    CMO" were read as asking past the path (`bot.after_the_path`); their leads are the gap the README names."""
    answered_floor, refused_floor = EDGES[edge]
    covered = [r["q"] for r in read_jsonl(PROJECT_ROOT / "tests" / "data" / f"edge_{edge}.jsonl")]
    beyond = [r["q"] for r in read_jsonl(PROJECT_ROOT / "tests" / "data" / f"edge_{edge}_oos.jsonl")]
    answered = sum(a.answered for a in engine.answer_many(covered)) / len(covered)
    refused = sum(a.abstained for a in engine.answer_many(beyond)) / len(beyond)
    assert answered >= answered_floor, answered
    assert refused >= refused_floor, refused


def test_asking_which_is_better_is_judged_on_what_is_compared(engine: AnswerEngine):
    """"Best" and "better" are mostly the out-of-scope bank's words ("best MBA programs"), but they say how a member
    asks, not what about: two degrees the guide describes are answered, named programs are not."""
    answered, refused = engine.answer_many(["Which is better, MHA or MBA?", "What are the best MBA programs for doctors?"])
    assert answered.answered
    assert any("Master of Health Administration" in s.text or "Master of Business Administration" in s.text for s in answered.lead)
    assert refused.abstained
    tokens = lexical.tokenize_one("which degree is better for a physician executive")
    assert focus_odds(engine.index, tokens) == focus_odds(engine.index, lexical.tokenize_one("which degree is for a physician executive"))


def test_a_comparison_is_judged_on_what_is_compared(engine: AnswerEngine):
    """"Than" and "difference" lean out of scope only because the out-of-scope bank compares titles the guide never
    describes ("CMO and CNO"); two degrees it describes are answered, a title it never mentions is not."""
    degrees, titles = engine.answer_many(["Is the MMM better than an MBA?", "What's the difference between a CMO and a CNO?"])
    assert degrees.answered and any("Master of" in s.text for s in degrees.lead)
    assert titles.abstained
    for words in ("is the mmm better than an mba", "what is the difference between the mba and the mha"):
        without = " ".join(w for w in words.split() if w not in ("better", "than", "difference"))
        assert focus_odds(engine.index, lexical.tokenize_one(words)) == focus_odds(engine.index, lexical.tokenize_one(without)), words


def test_thinking_aloud_words_are_no_evidence_either_way(engine: AnswerEngine):
    """The in-scope bank is chattier than the out-of-scope one: "actually" must not read as a sign the guide answers."""
    plain = lexical.tokenize_one("what does a hospital administrator do")
    for hedge in ("actually", "really", "honestly", "basically", "just"):
        hedged = lexical.tokenize_one(f"what does a hospital administrator {hedge} do")
        assert len(hedged) > len(plain), hedge
        assert focus_odds(engine.index, hedged) == focus_odds(engine.index, plain), hedge


def test_a_question_about_one_end_of_the_path_is_not_answered_from_the_other(engine: AnswerEngine):
    """The model reads "first step" and "final step" as near twins; the ranker's position feature tells them apart."""
    final = "The final stage of the career path involves active, strategic engagement"
    first, last = engine.answer_many(["What's the first step toward becoming a CMO?", "What is the final stage of the CMO career path?"])
    assert first.answered and not any(s.text.startswith(final) for s in first.lead)
    assert last.lead[0].text.startswith(final)


@pytest.mark.parametrize(
    "question",
    ["How to Become a Chief Medical Officer", "how to become cmo", "becoming a chief medical officer", "How can I become a chief medical officer?"],
)
def test_how_to_become_a_cmo_leads_with_the_path_not_a_sentence_that_happens_to_say_cmo(engine: AnswerEngine, question: str):
    """The guide's own title, as public pages and members ask it. With the topic counted in the ranker's word
    overlap, it led with "The final stage … to secure a CMO placement", the one step it does not ask about."""
    answer = engine.answer(question)
    assert answer.answered
    assert answer.lead[0].text.startswith("Attaining this senior executive position involves a rigorous sequence"), [s.text for s in answer.lead]


@pytest.mark.parametrize("question", ["What do pharma CMOs do?", "biotech cmo responsibilities?", "what does a pharma CMO actually do"])
def test_a_cmo_named_by_its_setting_is_answered_from_that_setting(engine: AnswerEngine, question: str):
    """Too few words besides the topic keep it in the dense query, so "What does a biotech CMO do?" read as
    "what does a CMO do" and was refused (0.38) or led with the hospital CMO's duties."""
    answer = engine.answer(question)
    assert answer.answered
    assert answer.lead[0].text.startswith("Within a pharmaceutical or biotechnology company"), [s.text for s in answer.lead]


def test_a_named_role_counts_once_so_the_sentence_on_what_is_asked_leads(engine: AnswerEngine):
    """Spelt out, "VPMA" matched the sentence that defines it four times over, which then led every VPMA question."""
    answer = engine.answer("What kind of external representation does the VPMA handle?")
    assert answer.answered
    assert any("external representation" in s.text for s in answer.lead), [s.text for s in answer.lead]


def test_a_name_in_the_plural_is_the_name_not_a_focus_word(engine: AnswerEngine):
    """"CMOs" is what a question is about, as "CMO" is: counted as a word of its own it leaned out of scope (the
    off-topic bank asks what CMOs earn and whom CMOs report to far more often than the guide says "CMOs")."""
    for plural, singular in (("which CMOs focus on utilization management", "which CMO focus on utilization management"),
                             ("do VPMAs handle external representation", "do VPMA handle external representation")):
        assert focus_odds(engine.index, lexical.tokenize_one(plural)) == focus_odds(engine.index, lexical.tokenize_one(singular)), plural


@pytest.mark.parametrize("question", ["What makes a great chief medical officer?", "What makes a really good CMO?"])
def test_a_question_whose_only_other_words_say_how_it_asks_keeps_its_topic(engine: AnswerEngine, question: str):
    """Without its topic, "What makes a great chief medical officer?" read "What makes a great" and was refused (0.11)."""
    assert "CMO" in dense_text(engine.query(question), engine.index.acronyms, engine.index.topic_terms)
    assert engine.answer(question).answered


def test_asking_what_makes_a_good_cmo_is_answered_from_the_competencies_and_the_same_of_other_titles_refused(engine: AnswerEngine):
    """The guide's answer to "what makes a good CMO" is its executive competencies; it describes no other title's."""
    answer = engine.answer("What traits make a good CMO?")
    assert answer.answered and "non-clinical skills" in answer.lead[0].text
    for other in ("What traits make a good CMIO?", "What qualities should a chief nursing officer have?"):
        assert engine.answer(other).abstained, other


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("What certifications does a chief medical officer need?", "Certified Physician Executive"),
        ("what credentials matter for a CMO role?", "second, advanced degree"),
        ("As a radiologist, how do I get started toward CMO?", ""),
        ("gen surg attending — what does a CMO at a biotech company do day to day?", "pharmaceutical or biotechnology company"),
        ("what does the program guide say about search firms", "executive search firms"),
    ],
)
def test_credentials_a_specialty_told_as_context_and_the_guide_named_by_members_are_answered(
    engine: AnswerEngine, question: str, phrase: str
):
    """"What certifications does a CMO need?" was refused (0.10): the off-topic bank's certifications (CPHQ, FACHE, board
    certification) outnumbered the guide's. "As a radiologist, …" was refused at 0.07 where the question alone read
    0.96, and "the program guide" at 0.37 where "the guide" was answered ("program" is the off-topic bank's word)."""
    answer = engine.answer(question)
    assert answer.answered, answer.confidence
    assert any(phrase in s.text for s in answer.lead), [s.text for s in answer.lead]


@pytest.mark.parametrize(
    "question",
    [
        "What should I know about CMO pay?",
        "What does CMO pay look like at a payer?",
        "Do oncologists have an edge for biotech CMO roles?",
        "Pathologist with lots of lab QA experience — are pathologists a natural fit for the CQO role?",
        "is anesthesia a good springboard for becoming a chief quality officer?",
    ],
)
def test_pay_and_specialties_as_what_is_asked_are_refused(engine: AnswerEngine, question: str):
    """The model answered these (0.54–0.97) from the role words around them: "pay" sits beside "payer" and
    "payment" in its embedding, and a specialty is a word no guide sentence holds (`bot.pay`, `bot.specialties`)."""
    answer = engine.answer(question)
    assert answer.abstained and answer.reason == "out_of_scope", answer.lead


def test_the_bank_features_weigh_the_nearest_questions_of_both_banks(engine: AnswerEngine):
    """What the abstention model reads of the two banks, checked against every bank question's cosine taken in full:
    the nearest of each, and the in-scope share (by cosine) of the ten nearest of both."""
    import numpy as np

    index = engine.index
    asked_in, asked_out = index.bank_texts[0], index.bank_texts[len(index.bank_in)]
    for question, inside in ((asked_in, True), (asked_out, False)):
        query = engine.query(question)
        vector = engine.encode([query])[0]
        features = engine.evidence(query, vector).features
        in_cos, out_cos = np.sort(index.bank_in @ vector)[::-1], np.sort(index.bank_out @ vector)[::-1]
        nearest = sorted([(c, True) for c in in_cos[:10]] + [(c, False) for c in out_cos[:10]], reverse=True)[:10]
        share = sum(max(c, 0) for c, is_in in nearest if is_in) / sum(max(c, 0) for c, _ in nearest)
        assert features["bank_in_top"] == pytest.approx(in_cos[0], abs=1e-3)
        assert features["bank_out_top"] == pytest.approx(out_cos[0], abs=1e-3)
        assert features["in_minus_out"] == pytest.approx(in_cos[0] - out_cos[0], abs=2e-3)
        assert features["neighbours_in"] == pytest.approx(share, abs=1e-2)
        assert (features["in_minus_out"] > 0) == inside, "a bank's own question is nearest its own bank"


def test_each_of_the_best_chunks_offers_its_sentence_nearest_the_question(engine: AnswerEngine):
    """The sentence a passage falls back to quoting and the "sentence_top" feature: of the ten best chunks, each one's
    sentence with the highest cosine, checked against the sentence vectors multiplied in full."""
    import numpy as np

    index = engine.index
    for question in ("Which credential is from the AAPL?", "What does a VPMA do all day?", "How are most top executive jobs filled?"):
        query = engine.query(question)
        vector = engine.encode([query])[0]
        evidence = engine.evidence(query, vector)
        cosines = np.asarray(index.sentence_vectors) @ vector
        best_chunks = [c for c in evidence.order[:10] if index.chunks[c].sentences]
        assert sorted(evidence.best_sentence) == sorted(best_chunks)
        for chunk in best_chunks:
            start, end = index.sentence_rows(chunk)
            text, cosine = evidence.best_sentence[chunk]
            assert text == index.chunks[chunk].sentences[int(np.argmax(cosines[start:end]))]
            assert cosine == pytest.approx(float(cosines[start:end].max()), abs=1e-5)
        top = max(float(cosines[slice(*index.sentence_rows(c))].max()) for c in best_chunks)
        assert evidence.features["sentence_top"] == pytest.approx(top, abs=1e-5)
