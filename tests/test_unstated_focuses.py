"""Focuses the guide never states whose questions the model reads as stated (`bot.engine.UNSTATED_FOCUSES`): what
counts as asking one, and what counts as the documents stating it (which turns its refusal off)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.after_the_path import asks_past_the_path, states_past_the_path
from bot.elsewhere import asks_elsewhere, states_elsewhere
from bot.other_functions import asks_other_function, states_other_function
from bot.other_professions import asks_other_profession, states_other_profession
from bot.pay import asks_pay, states_pay
from bot.quantities import asks_quantity, states_quantity
from bot.engine import UNSTATED_FOCUSES
from bot.query import sentences_of
from bot.reporting_lines import asks_reporting_line, states_reporting_line
from bot.schools import asks_named_school, states_named_school
from bot.search_firms import asks_named_firm, states_named_firm
from bot.job_boards import asks_job_boards, states_job_boards
from bot.other_names import asks_other_name, states_other_name
from bot.back_to_practice import asks_back_to_practice, states_back_to_practice
from bot.settings import PROJECT_ROOT
from bot.specialties import asks_specialties, states_specialties
from bot.their_organization import asks_their_organization, states_their_organization
from bot.trends import asks_trend, states_trend
from knowledge.loaders import load_markdown

GUIDE = load_markdown(PROJECT_ROOT / "knowledge" / "documents" / "cmo-career-path.md")
GUIDE_SENTENCES = [s for block in GUIDE.blocks for s in sentences_of(block.text)]
"""The guide's headings and sentences, without its front matter (its version and date are no figure it states)."""


def test_the_guide_states_none_of_them_so_every_refusal_is_on():
    assert not any(states(GUIDE_SENTENCES) for _, states in UNSTATED_FOCUSES)


def test_a_published_sentence_that_states_one_turns_its_refusal_off():
    assert states_reporting_line(["At the partner hospitals the CMO reports to the CEO."])
    assert states_past_the_path(["Many physicians move into system roles after serving as a CMO."])
    assert states_elsewhere(["In the NHS the equivalent post is the trust medical director."])
    assert states_elsewhere(["At academic medical centers the CMO also works with the dean."])
    assert states_other_function(["At partner hospitals the VPMA also oversees graduate medical education."])
    assert not states_other_function(["HCAHPS and CMS Core Measures are tied to value-based purchasing."])
    assert states_pay(["CMO salaries in the program's partner hospitals range widely."])
    assert not states_pay(["Capitation provides a fixed payment per patient to cover their care."])
    assert states_specialties(["Most of the program's CMOs came from internal medicine and other specialties."])
    assert not states_reporting_line(["The CQO manages data for public reporting of quality measures."])
    assert states_quantity(["About 40% of the program's CMOs hold an MBA."])
    assert states_quantity(["The MMM usually takes two years part-time."])
    assert not states_quantity(["Strategic planning turns vision into actionable, multi-year plans."])
    assert not states_quantity(["Version 2 of the guide was published in 2026."])
    assert states_trend(["Demand for physician executives is growing as systems consolidate."])
    assert not states_trend(["The CMO supports the organization's financial sustainability and growth objectives."])
    assert states_their_organization(["Does your hospital have a CMO? Partner hospitals can ask the program office."])
    assert states_named_firm(["Members have been placed by Korn Ferry and WittKieffer."])
    assert not states_named_firm(["Engaging with executive search firms is also a necessary step."])
    assert states_job_boards(["Members find most openings on the AAPL's job board and PracticeLink."])
    assert not states_job_boards(["Many top leadership positions are filled through personal referrals and targeted recruitment."])
    assert states_other_name(["In pharma the CMO is also called the chief development officer."])
    assert not states_other_name(["The Vice President of Medical Affairs (VPMA) position represents a significant increase in scope."])
    assert states_back_to_practice(["Several graduates have returned to clinical practice after a term as CMO."])
    assert not states_back_to_practice(["The foundation of a successful CMO career is built upon a decade or more of substantial clinical practice."])
    assert not states_their_organization(["The CMO ensures the alignment of medical staff with the organization's objectives."])
    assert states_other_profession(["Nurse practitioners and PAs in the program follow the same leadership track."])
    assert not states_other_profession(["The CMO aligns the medical staff with the organization's objectives."])
    assert states_named_school(["Program graduates most often chose Wharton's executive MBA."])
    assert not states_named_school(["The MBA is often earned through physician-specific executive programs."])


ASKS = [
    (asks_reporting_line, "To whom does the CMO or VPMA report?", True),
    (asks_reporting_line, "cmo reports to ceo or board?", True),
    (asks_reporting_line, "Who sits above the VPMA?", True),
    (asks_reporting_line, "does the vpma fall under the cmo or is it the other way round", True),
    (asks_reporting_line, "EM doc here, 6 docs report to me. Who does the medical director answer to?", True),
    (asks_reporting_line, "What does the CMO oversee?", False),
    (asks_reporting_line, "What is the CMO accountable for?", False),
    (asks_reporting_line, "I have 6 docs reporting to me as section chief. Does that count as formal admin experience?", False),
    (asks_reporting_line, "As a medical director reporting to the CMO, what's my next step toward the VPMA role?", False),
    (asks_reporting_line, "Does managing day-to-day staff performance fall under the medical director's responsibilities?", False),
    (asks_reporting_line, "Which quality data does the CQO manage for public reporting?", False),
    (asks_reporting_line, "Does the CPE actually carry weight with people who hire physician executives?", False),
    (asks_reporting_line, "Who hires the CMO at a hospital?", True),
    (asks_past_the_path, "What's the next step after becoming a CMO?", True),
    (asks_past_the_path, "is there a job above cmo at a hospital", True),
    (asks_past_the_path, "I've been CMO for four years. What is the realistic next step for me?", True),
    (asks_past_the_path, "Is the CMO job a dead end?", True),
    (asks_past_the_path, "How important is my network when going after a CMO job?", False),
    (asks_past_the_path, "What comes after the medical director role on the path to CMO?", False),
    (asks_past_the_path, "Now that I'm CMO at a payer, what should my focus be?", False),
    (asks_past_the_path, "Is the CQO role a good path to CMO or a dead end?", False),
    (asks_past_the_path, "I'm a CMO now, what comes next in my career?", True),
    (asks_past_the_path, "done as CMO at a pharma co, what comes after that?", True),
    (asks_past_the_path, "I'm a CMO candidate. What comes next after the VPMA?", False),
    (asks_elsewhere, "How Does the CMO Role Differ From Country to Country?", True),
    (asks_elsewhere, "cmo jobs in india - do hospitals there even care about an mba or mmm", True),
    (asks_elsewhere, "what quality metrics do uk hospitals use instead of hcahps for a cqo type role", True),
    (asks_elsewhere, "Does the CPE count for anything if I move to Australia?", True),
    (asks_elsewhere, "what does a CMO do at the VA?", True),
    (asks_elsewhere, "What does a CMO focus on in a county health department?", True),
    (asks_elsewhere, "what does a CMO do at a CRO", True),
    (asks_elsewhere, "Trained in Lagos, now an internist in Houston - what does a VPMA actually do?", False),
    (asks_elsewhere, "I'm originally from India and practise in Ohio. Which degrees do physician execs usually get?", False),
    (asks_elsewhere, "did med school in india, working in ohio now. what extra degree do most physician execs get", False),
    (asks_elsewhere, "What does a CMO at a global pharma company do?", False),
    (asks_elsewhere, "How does the CMO role differ at an academic medical center vs a community hospital?", True),
    (asks_elsewhere, "What extra complexity do CMOs at teaching hospitals deal with?", True),
    (asks_elsewhere, "i'm at a 200-bed community hospital. what would our CMO actually be in charge of?", False),
    (asks_elsewhere, "whats a cmo do at a biotech startup vs a big hospital", False),
    (asks_other_function, "Which role handles HR and hiring for the hospital?", True),
    (asks_other_function, "who in the c-suite oversees the IT department", True),
    (asks_other_function, "What kind of leader runs emergency preparedness for a hospital?", True),
    (asks_other_function, "Which role deals with HCAHPS scores?", False),
    (asks_other_function, "Which executive's work is most closely tied to value-based purchasing?", False),
    (asks_other_function, "What does the VPMA do about nursing shortages?", False),
    (asks_pay, "What should I know about CMO pay?", True),
    (asks_pay, "What does CMO pay look like at a payer?", True),
    (asks_pay, "How much do Chief Medical Officers make?", True),
    (asks_pay, "what does a cmo make at an insurance company compared to a hospital one", True),
    (asks_pay, "what would i make as a vpma", True),
    (asks_pay, "What does a CQO earn?", True),
    (asks_pay, "what does a cmo make decisions about", False),
    (asks_pay, "What does a physician need to earn the CPE?", False),
    (asks_pay, "whats the pay like for a cqo", True),
    (asks_pay, "Do CMOs get paid more at payers than at hospitals?", True),
    (asks_pay, "How does capitation pay providers?", False),
    (asks_pay, "Do quality scores affect how much a hospital gets paid?", False),
    (asks_pay, "straight question: what does a cmo at a mid-size community hospital actually get paid these days?", True),
    (asks_pay, "how much does a medical director at a big academic center get paid", True),
    (asks_pay, "What does a CMO do to make sure the hospital gets paid under capitation?", False),
    (asks_pay, "Does adding an MBA to my MD really pay off?", False),
    (asks_pay, "I hear the pay is better on the payer side. What does a payer CMO focus on?", False),
    (asks_pay, "The first benefit people name is a higher salary, but what does the MBA actually train you in?", False),
    (asks_specialties, "What specialties most easily lend themselves to moving into hospital leadership?", True),
    (asks_specialties, "Does specialty even matter for becoming a CMO?", True),
    (asks_specialties, "Do oncologists have an edge for biotech CMO roles?", True),
    (asks_specialties, "are hospitalists favoured for cmo jobs since we know how the hospital runs", True),
    (asks_specialties, "do er docs make better cmos than hospitalists", True),
    (asks_specialties, "As a radiologist, how do I get started toward CMO?", False),
    (asks_specialties, "I'm a specialist in GI. Which degree do physician executives usually get?", False),
    (asks_specialties, "How do hospitalists, so well placed in patient safety, develop toward leadership?", False),
    (asks_specialties, "Why are specialized executive recruiters involved in filling senior posts?", False),
    (asks_specialties, "is anesthesia a good springboard for becoming a chief quality officer?", True),
    (asks_specialties, "Is the CQO role a good path to CMO?", False),
    (asks_quantity, "what % of CMOs have an MBA vs MHA vs nothing? any data?", True),
    (asks_quantity, "How big is the operating budget a medical director usually manages?", True),
    (asks_quantity, "realistically how many years from first med dir job to CMO?", True),
    (asks_quantity, "How long does the MMM take to finish?", True),
    (asks_quantity, "How long do CMOs usually stay in the job?", True),
    (asks_quantity, "How many years of clinical practice should I have before going for CMO?", False),
    (asks_quantity, "how long and how hard is the road to cmo, roughly", False),
    (asks_quantity, "vp med affairs vs medical director, how big is the jump really", False),
    (asks_quantity, "How many years out does a CMO's strategic planning cover?", False),
    (asks_quantity, "Does a medical director have budget responsibility?", False),
    (asks_quantity, "yrs as vpma b4 cmo", True),
    (asks_quantity, "years in a med dir role before VPMA?", True),
    (asks_quantity, "years in practice before going for med dir?", False),
    (asks_quantity, "years of experience as an attending matter for cmo?", False),
    (asks_trend, "What Is Driving the Growth of the Chief Quality Officer Role?", True),
    (asks_trend, "Why is the capitation payment model gaining popularity in healthcare?", True),
    (asks_trend, "Why are so many hospitals adding physician executives to the C-suite?", True),
    (asks_trend, "why are more physicians pursuing the MMM these days", True),
    (asks_trend, "Why do so many physicians choose the MBA over the MHA?", False),
    (asks_trend, "What's the job outlook for medical directors over the next decade?", True),
    (asks_trend, "is the CPE credential getting more popular with hiring committees", True),
    (asks_trend, "Where have all the CQOs gone?", True),
    (asks_trend, "Is the hidden job market in medicine real?", False),
    (asks_trend, "Is an MBA more common than an MHA for physician executives?", False),
    (asks_trend, "How does a CMO support the organization's growth objectives?", False),
    (asks_trend, "How does my focus shift when I move from clinician to executive?", False),
    (asks_trend, "Which skills are in demand for CMOs?", False),
    (asks_trend, "Why is strategic planning becoming more important for CMOs?", False),
    (asks_trend, "What's behind the increase in scope from medical director to VPMA?", False),
    (asks_trend, "Is it more common to get an MBA or an MHA?", False),
    (asks_trend, "Is it true the chief quality officer job is one of the more common routes to CMO?", False),
    (asks_trend, "Is the CQO role more common now?", True),
    (asks_their_organization, "Does your organization have a VPMA and/or a CMO?", True),
    (asks_named_firm, "which executive search firms are the big ones for CMO searches?", True),
    (asks_named_firm, "Korn Ferry or Spencer Stuart: which is better for physician executives?", True),
    (asks_named_firm, "who are the top healthcare headhunters for CMO roles", True),
    (asks_named_firm, "Which firms handle CMO searches?", True),
    (asks_named_firm, "should I be talking to headhunters if I want a CMO job eventually?", False),
    (asks_named_firm, "Which kind of firm runs a CMO search?", False),
    (asks_named_firm, "Why are recruiting firms involved in hiring for the most senior positions?", False),
    (asks_named_firm, "Do I need to work with a headhunter to land a chief medical officer job?", False),
    (asks_job_boards, "List the job boards where CMO openings get posted.", True),
    (asks_job_boards, "where are cmo jobs posted? any good job boards", True),
    (asks_job_boards, "Which job portal is best for searching CMO vacancies?", True),
    (asks_job_boards, "How do most people actually land CMO jobs? Are they even posted on job boards?", False),
    (asks_job_boards, "How do these positions usually get filled if not through job boards?", False),
    (asks_job_boards, "Which board members should I build relationships with?", False),
    (asks_other_profession, "any path for NPs or PAs into a chief medical officer seat?", True),
    (asks_other_profession, "NP, 15 years. What executive titles are open to advanced practice providers?", True),
    (asks_other_profession, "What's the usual path for a hospitalist into the C-suite?", False),
    (asks_other_profession, "PA here 👋\nis there any path to the c-suite for us?", True),
    (asks_other_profession, "NP here - can I become a CMO?", True),
    (asks_other_profession, "Pediatric hospitalist here, can I become a CMO?", False),
    (asks_other_profession, "What leadership path should a nurse take to reach the C-suite?", True),
    (asks_other_profession, "What path should a hospitalist take to reach the C-suite?", False),
    (asks_other_profession, "If a PA wanted to move into healthcare administration, which credentials would help?", True),
    (asks_other_profession, "If a hospitalist wanted to move into administration, which credentials would help?", False),
    (asks_other_name, "Are there any alternative names used for the CMO in Pharma?", True),
    (asks_other_name, "What other titles are used for the chief medical officer role at biotech companies?", True),
    (asks_other_name, "Is the CMO in pharma known by any other names?", True),
    (asks_other_name, "VPMA vs CMO: what's the difference?", False),
    (asks_other_name, "What does VPMA stand for?", False),
    (asks_back_to_practice, "How do you step down from a CMO role and go back to full-time clinical practice?", True),
    (asks_back_to_practice, "Can a former Chief Medical Officer return to full-time clinical practice?", True),
    (asks_back_to_practice, "if i become a cmo and hate it can i go back to clinical work lol", True),
    (asks_back_to_practice, "is a med director job a step down from VPMA?", False),
    (asks_back_to_practice, "How many years of clinical practice before moving into leadership?", False),
    (asks_their_organization, "In what way does your practice greet a newly arrived physician?", True),
    (asks_their_organization, "Will you or your organization's other physicians speak up for patients?", True),
    (asks_their_organization, "Does your hospital need a chief quality officer?", True),
    (asks_their_organization, "What does your hospital's CMO do?", False),
    (asks_their_organization, "How can a CQO help your organization?", False),
    (asks_their_organization, "Why join your hospital's QI committee?", False),
    (asks_their_organization, "Our hospital is hiring a CMO. What will they oversee?", False),
    (asks_their_organization, "Does our organization need a VPMA if we have a CMO? Asking what each one does.", False),
    (asks_quantity, "How much budget responsibility does a medical director have?", False),
    (asks_quantity, "How long should I stay clinical before moving into admin?", False),
    (asks_quantity, "Say a department budget is being set. What size budget do medical directors usually manage?", True),
    (asks_quantity, "What size organization needs a CMO?", False),
    (asks_pay, "payer CMO vs hospital CMO: which one pays better?", True),
    (asks_pay, "My mentee asked how much CMOs make. What should I tell her?", True),
    (asks_pay, "My mentee asked how much CMOs make, but what does a CMO actually do all day?", False),
    (asks_pay, "How much difference does the CPE make on a CV?", False),
    (asks_quantity, "Say a med student asks what USMLE score they'd need to someday become a CMO. What would you tell them?", True),
    (asks_quantity, "A med student asked me what USMLE score she'd need. Separately, what does a CMO do?", False),
    (asks_pay, "Does capitation pay providers better than fee for service?", False),
    (asks_specialties, "Internal medicine or emergency medicine residency: which sets you up better to become a CMO someday?", True),
    (asks_specialties, "I am an internist or hospitalist, which degree helps?", False),
    (asks_specialties, "MBA or MMM for a doc who wants hospital ops?", False),
    (asks_specialties, "Is it harder for a radiologist to move into the executive suite than for a hospitalist?", True),
    (asks_specialties, "Would a surgeon or an internist be more likely to be chosen for a CMO role?", True),
    (asks_specialties, "I'm a hospitalist and my wife is a surgeon. Which of us would have an easier path to CMO?", False),
    (asks_specialties, "As a cardiologist, is an MBA better than an MMM?", False),
    (asks_named_school, "Which specific physician-focused MBA programs are considered the best for a future CMO?", True),
    (asks_named_school, "Is an MBA from a school outside the top 20 not good enough for CMO roles?", True),
    (asks_named_school, "Which is better, Wharton or Kellogg executive MBA?", True),
    (asks_named_school, "Which schools offer the MMM?", True),
    (asks_named_school, "Do I need to go back to school for another degree?", False),
    (asks_named_school, "Are there physician-specific executive programs for the MBA?", False),
    (asks_named_school, "doc here, 40, want to be CMO eventually. what programs should i be looking at?", False),
    (asks_named_school, "how do the rank-and-file docs see the CMO?", False),
    (asks_quantity, "how many years as medical director before VPMA?", True),
    (asks_quantity, "exactly how many years as a department-lead doc before you can move up to the VP rung?", True),
    (asks_quantity, "how many years as an attending before I can be a medical director?", False),
    (asks_quantity, "what USMLE score would a med student need to someday become a CMO?", True),
    (asks_quantity, "What GMAT score do the physician MBA programs want?", True),
    (asks_quantity, "Which role deals with HCAHPS scores?", False),
    (asks_other_profession, "Can a PA become a medical director?", True),
    (asks_other_profession, "Are NPs ever hired as medical directors or CMOs?", True),
    (asks_other_profession, "explain how a nurse could work up to a CMO role", True),
    (asks_other_profession, "im a PA-C, what path would get me to a CMO type role?", True),
    (asks_other_profession, "I'm a nurse practitioner with 15 years and a DNP. Could I realistically become a CMO?", True),
    (asks_other_profession, "As a senior PA, is the CMO route open to me?", True),
    (asks_other_profession, "I'm a hospitalist with 12 years. Could I realistically become a CMO?", False),
    (asks_other_profession, "As a doc with NPs, how do I get into leadership?", False),
    (asks_other_profession, "I am a hospitalist married to a nurse; could I become CMO?", False),
    (asks_other_profession, "im a DO not an MD, can i still go the cmo route?", False),
    (asks_other_profession, "nurse-turned-md here. what's capitation and why does a cmo need to know it", False),
    (asks_other_profession, "What leadership roles are open to physician assistants in hospital administration?", True),
    (asks_other_profession, "Which executive roles are open to a physician with an MBA?", False),
    (
        asks_other_profession,
        "I'm a nurse manager, and one of our hospitalists wants to move into leadership. What does patient safety work give him?",
        False,
    ),
]
"""(detector, message, whether it asks the detector's focus). The same words asking something else, a member's own
reporting line, the path's own steps, a sitting CMO asking about the role, a place in the member's history and a
non-physician asking about a physician do not."""


@pytest.mark.parametrize(("asks", "message", "expected"), ASKS, ids=[f"{a.__name__}:{m[:40]}" for a, m, _ in ASKS])
def test_what_each_focus_reads_as_asking_it(asks: Callable[[str], bool], message: str, expected: bool):
    assert asks(message) is expected
