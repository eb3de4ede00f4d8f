"""Command summaries quote the guide, resolve names as members type them, and fit one chat message."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.answer import Summary
from bot.commands import HELP_EXAMPLES, Command, parse_command
from bot.indexing import build_index
from bot.settings import PROJECT_ROOT, Settings
from bot.summaries import MAX_SUMMARY_CHARS, resolve, resolve_in, suggested_prompts, summarize, summary_chars
from bot.embedding import load_embedder
from index.guide_index import GuideIndex, load_index
from knowledge.acronyms import collect_acronyms
from knowledge.chunking import chunk_documents
from knowledge.entities import Entities, derive_entities
from knowledge.loaders import load_documents
from tests.test_commands import TYPED_COMMANDS, UNKNOWN_NAME

KNOWLEDGE = PROJECT_ROOT / "knowledge"
SLACK_TEXT_LIMIT = 3000

CMIO_DOCUMENT = """---
id: informatics-leadership
title: "Clinical Informatics Leadership"
---

# Clinical Informatics Leadership

Physicians who enjoy technology can lead the digital side of care delivery.

## The Chief Medical Information Officer

The Chief Medical Information Officer (CMIO) leads the clinical strategy for electronic health records and decision support. The CMIO is responsible for clinician adoption of digital tools and for the governance of clinical content.

## Informatics Credentials

The Fellow of the American Medical Informatics Association (FAMIA) designation recognises applied informatics practice.
"""


def _index(knowledge_dir: Path, data_dir: Path) -> GuideIndex:
    settings = Settings(knowledge_dir=knowledge_dir, data_dir=data_dir, model="hashing-256")
    build_index(settings, load_embedder(settings))
    return load_index(settings.index_dir)


@pytest.fixture(scope="session")
def hashed_guide(tmp_path_factory: pytest.TempPathFactory) -> GuideIndex:
    """The repo's guide, indexed with the instant hashing embedder: summaries never depend on embeddings."""
    return _index(KNOWLEDGE, tmp_path_factory.mktemp("summaries-data"))


@pytest.fixture(scope="session")
def two_documents(tmp_path_factory: pytest.TempPathFactory) -> GuideIndex:
    knowledge = tmp_path_factory.mktemp("two-documents")
    shutil.copytree(KNOWLEDGE / "documents", knowledge / "documents")
    shutil.copytree(KNOWLEDGE / "questions", knowledge / "questions")
    (knowledge / "documents" / "informatics-leadership.md").write_text(CMIO_DOCUMENT, encoding="utf-8")
    return _index(knowledge, knowledge / "data")


def _texts(summary: Summary) -> list[str]:
    return [p.text for p in summary.points]


def _assert_quotes_the_index(summary: Summary, index: GuideIndex) -> None:
    chunks = {c.id: c for c in index.chunks}
    for point in summary.points:
        chunk = chunks[point.chunk_id]
        # One sentence of the chunk, or a run of them as they stand in it (a sentence with the one it leans on).
        assert point.text in chunk.text
        assert any(point.text.startswith(s) for s in chunk.sentences) and any(point.text.endswith(s) for s in chunk.sentences)
        assert point.source.section == chunk.section and point.source.document_id == chunk.document_id


# Each name, a few ways members type it, and the start of its defining sentence in the guide.
SPELLINGS = [
    ("role", "cmo", ["cmo", "CMO", "Chief Medical Officer", "chief medical oficer"], "The Chief Medical Officer position is a senior executive role"),
    ("role", "medical-director", ["medical director", "Medical Directors", "medcial director"], "A Medical Director role often serves as the first formal step"),
    ("role", "vpma", ["vpma", "VP medical affairs", "vice president medical affairs", "Vice President of Medical Affairs", "vmpa"], "The Vice President of Medical Affairs (VPMA) position represents"),
    ("role", "cqo", ["cqo", "quality officer", "Chief Quality Officer", "chief qualty officer"], "The Chief Quality Officer (CQO) role is often a direct path to CMO"),
    ("role", "cmo-hospital-or-health-system", ["hospital cmo", "cmo hospital", "health system cmo", "CMO hospital or health system"], "In a hospital or health system, the CMO primarily oversees"),
    ("role", "cmo-health-insurance-payer", ["cmo payer", "payer cmo", "CMO health insurance payer", "insurance cmo"], "For a health insurance payer, the CMO focuses on"),
    ("role", "cmo-pharmaceutical-or-biotechnology-company", ["pharma cmo", "biotech cmo", "cmo pharmaceutical", "CMO biotechnology company"], "Within a pharmaceutical or biotechnology company, the CMO guides"),
    ("credential", "md", ["md", "MD", "Doctor of Medicine"], "Achieving the CMO position requires academic preparation"),
    ("credential", "do", ["do", "DO", "Doctor of Osteopathic Medicine", "osteopathic"], "Achieving the CMO position requires academic preparation"),
    ("credential", "mba", ["mba", "MBA", "Master of Business Administration", "master business admin"], "The Master of Business Administration (MBA) is a common choice"),
    ("credential", "mha", ["mha", "Master of Health Administration", "masters health administration"], "Other suitable options include the Master of Health Administration (MHA)"),
    ("credential", "mmm", ["mmm", "Master of Medical Management", "medical management"], "Other suitable options include the Master of Health Administration (MHA)"),
    ("credential", "cpe", ["cpe", "Certified Physician Executive", "certified physician exec"], "Additionally, the Certified Physician Executive (CPE) credential"),
]
CASES = [(kind, key, spelling, defining) for kind, key, spellings, defining in SPELLINGS for spelling in spellings]


@pytest.mark.parametrize(("kind", "key", "spelling", "defining"), CASES)
def test_every_role_setting_and_credential_resolves_from_how_members_type_it(hashed_guide, kind, key, spelling, defining) -> None:
    resolution = resolve(spelling, kind, hashed_guide)
    assert resolution.entity is not None and resolution.entity.key == key


@pytest.mark.parametrize(("kind", "key", "spelling", "defining"), CASES)
def test_a_summary_quotes_the_defining_sentence_from_the_guide(hashed_guide, kind, key, spelling, defining) -> None:
    summary = summarize(Command(kind, spelling), hashed_guide)
    assert summary.kind == kind
    assert any(defining in text for text in _texts(summary))
    _assert_quotes_the_index(summary, hashed_guide)


@pytest.mark.parametrize(
    ("spelling", "key"),
    [("vice president medical affairs", "vpma"), ("VP medical affairs", "vpma"), ("quality officer", "cqo"),
     ("cmo payer", "cmo-health-insurance-payer"), ("payer cmo", "cmo-health-insurance-payer"),
     ("pharma cmo", "cmo-pharmaceutical-or-biotechnology-company"), ("hospital cmo", "cmo-hospital-or-health-system"),
     ("certified physician executive", "cpe"), ("osteopathic", "do"), ("medcial director", "medical-director")],
)
def test_names_resolve_without_the_glossary(tmp_path: Path, spelling: str, key: str) -> None:
    docs = load_documents(KNOWLEDGE / "documents")
    chunks = chunk_documents(docs)
    entities = Entities.from_json(derive_entities(docs, chunks, collect_acronyms(c.text for c in chunks), tmp_path / "none.yaml"))
    resolution = resolve_in(spelling, "any", entities)
    assert resolution.entity is not None and resolution.entity.key == key


LEANING_OPENERS = ("Additionally", "Also,", "Furthermore", "Moreover", "However", "In addition", "This involves", "This includes")


def test_no_point_opens_leaning_on_a_sentence_it_does_not_quote(hashed_guide, two_documents) -> None:
    """Quoted alone, "Additionally, the Certified Physician Executive (CPE) credential …" reads as broken."""
    for index in (hashed_guide, two_documents):
        for command in _every_command(index):
            for point in summarize(command, index).points:
                assert not point.text.startswith(LEANING_OPENERS), (command, point.text)
    cpe = _texts(summarize(Command("credential", "cpe"), hashed_guide))
    assert cpe[0].startswith("Other suitable options include the Master of Health Administration (MHA)")
    assert "(MMM). Additionally, the Certified Physician Executive (CPE) credential" in cpe[0]
    assert len(cpe) == len(set(cpe)) and not any(t != cpe[0] and t in cpe[0] for t in cpe), "no sentence quoted twice"


def test_a_role_summary_says_what_it_does_and_how_it_leads_on(hashed_guide) -> None:
    summary = summarize(Command("role", "vpma"), hashed_guide)
    texts = _texts(summary)
    assert summary.title == "Vice President of Medical Affairs (VPMA)"
    assert 2 <= len(texts) <= 5
    assert any(t.startswith("The VPMA is responsible for clinical governance") for t in texts)
    assert any(t.startswith("The move from practicing clinician to executive") for t in texts)


def test_the_cmo_summary_names_its_settings_and_keeps_their_sentences_for_their_own_summaries(hashed_guide) -> None:
    summary = summarize(Command("role", "cmo"), hashed_guide)
    assert "health insurance payer" in summary.intro
    assert not any(t.startswith("For a health insurance payer") for t in _texts(summary))
    for command in summary.suggestions:
        assert summarize(parse_command(command), hashed_guide).kind == "role"


def test_a_credential_summary_says_what_it_is_and_why_it_matters(hashed_guide) -> None:
    texts = _texts(summarize(Command("credential", "cpe"), hashed_guide))
    assert "Additionally, the Certified Physician Executive (CPE) credential, awarded by" in texts[0]  # with the sentence it leans on
    assert any(t.startswith("Physicians must acquire a second, advanced degree") for t in texts)


def test_a_role_command_for_a_credential_still_finds_it(hashed_guide) -> None:
    assert summarize(Command("role", "mba"), hashed_guide).kind == "credential"


def test_path_lists_the_stages_in_the_guides_order_each_with_its_source(hashed_guide) -> None:
    summary = summarize(Command("path"), hashed_guide)
    assert [p.label for p in summary.points] == [
        "Gaining Deep Clinical and Operational Expertise",
        "Medical Director Roles",
        "Vice President of Medical Affairs",
        "Chief Quality Officer",
        "Developing Executive Competencies",
        "Strategic Networking and C-Suite Recruitment",
    ]
    assert all(p.source.section == p.label for p in summary.points)
    positions = {c.id: c.position for c in hashed_guide.chunks}
    assert [positions[p.chunk_id] for p in summary.points] == sorted(positions[p.chunk_id] for p in summary.points)
    _assert_quotes_the_index(summary, hashed_guide)


def test_roles_and_credentials_list_every_one_with_its_defining_sentence(hashed_guide) -> None:
    roles = summarize(Command("roles"), hashed_guide)
    assert [p.label for p in roles.points] == [
        "Chief Medical Officer (CMO)",
        "Medical Director",
        "Vice President of Medical Affairs (VPMA)",
        "Chief Quality Officer (CQO)",
    ]
    credentials = summarize(Command("credentials"), hashed_guide)
    assert [p.label.split("(")[-1].rstrip(")") for p in credentials.points] == ["MD", "DO", "MBA", "MHA", "MMM", "CPE"]
    _assert_quotes_the_index(roles, hashed_guide)
    _assert_quotes_the_index(credentials, hashed_guide)


@pytest.mark.parametrize(("command", "title"), [(Command("role", "chief nursing officer"), "No role called “chief nursing officer”"),
                                                 (Command("credential", "phd"), "No credential called “phd”")])
def test_an_unknown_name_gets_the_closest_names_not_an_error(hashed_guide, command: Command, title: str) -> None:
    summary = summarize(command, hashed_guide)
    assert summary.kind == "unknown"
    assert summary.title == title
    assert summary.suggestions and summary.intro.startswith("Did you mean")
    assert all(name in summary.intro for name in summary.suggestions)


def test_an_unknown_role_suggests_the_nearest_roles_first(hashed_guide) -> None:
    summary = summarize(Command("role", "chief nursing officer"), hashed_guide)
    assert set(summary.suggestions[:2]) == {"Chief Medical Officer", "Chief Quality Officer"}


@pytest.mark.parametrize(("typed", "title"), TYPED_COMMANDS)
def test_a_name_as_members_type_it_gets_its_summary(hashed_guide, typed: str, title: str) -> None:
    command = parse_command(typed)
    assert command is not None
    summary = summarize(command, hashed_guide)
    assert summary.title == title and summary.points
    _assert_quotes_the_index(summary, hashed_guide)


def test_did_you_mean_lists_the_closest_names_first_not_the_first_in_the_guide(hashed_guide) -> None:
    typed, title, closest = UNKNOWN_NAME
    summary = summarize(parse_command(typed), hashed_guide)
    assert summary.kind == "unknown" and summary.title == title
    assert summary.suggestions[0] == closest and summary.intro.startswith(f"Did you mean {closest}")
    # Letter by letter "phd" is nearest the two doctorates, and "mph" the other public-health-sounding master's.
    assert set(summarize(Command("credential", "phd"), hashed_guide).suggestions[:2]) == {"Doctor of Medicine", "Doctor of Osteopathic Medicine"}
    assert summarize(Command("credential", "mph"), hashed_guide).suggestions[0] == "Master of Health Administration"


def test_a_word_for_the_kind_of_name_is_not_needed_to_find_it(hashed_guide) -> None:
    for typed, key in [("DO degree", "do"), ("CPE certification", "cpe"), ("business degree", "mba"), ("medical degree", "md")]:
        resolution = resolve(typed, "credential", hashed_guide)
        assert resolution.entity is not None and resolution.entity.key == key, typed


def test_a_name_that_fits_two_roles_asks_which(hashed_guide) -> None:
    summary = summarize(Command("role", "officer"), hashed_guide)
    assert summary.kind == "unknown"
    assert set(summary.suggestions) == {"Chief Medical Officer", "Chief Quality Officer"}


def test_help_shows_the_grammar_and_examples_that_work(hashed_guide) -> None:
    summary = summarize(Command("help"), hashed_guide)
    for command, _ in HELP_EXAMPLES:
        assert command in summary.intro
    assert summary.suggestions
    for example in summary.suggestions:
        parsed = parse_command(example)
        assert parsed is not None and summarize(parsed, hashed_guide).kind != "unknown"


def _every_command(index: GuideIndex) -> list[Command]:
    entities = Entities.from_json(index.entities)
    commands = [Command(name) for name in ("path", "roles", "credentials", "help")]
    commands += [Command("credential" if e.kind == "credential" else "role", e.name) for e in entities.entities]
    return commands + [Command("role", "nobody at all"), Command("role", "officer")]


def test_every_summary_fits_one_chat_message(hashed_guide, two_documents) -> None:
    for index in (hashed_guide, two_documents):
        for command in _every_command(index):
            summary = summarize(command, index)
            assert summary_chars(summary) <= MAX_SUMMARY_CHARS < SLACK_TEXT_LIMIT
            assert len(str(summary.to_json())) < 2 * SLACK_TEXT_LIMIT


def test_a_long_role_list_names_the_rest_instead_of_overflowing(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    (knowledge / "documents").mkdir(parents=True)
    regions = "Alpine Boreal Coastal Delta Eastern Fjord Glacier Harbour Inland Jungle Karst Lakeland Midland Northern Oasis Prairie Quarry Riverside Southern Tundra".split()
    sections = "\n\n".join(
        f"## {region} Regional Director\n\nThe {region} Regional Director " + "oversees many clinics across a wide region " * 8 + "every week."
        for region in regions
    )
    (knowledge / "documents" / "regions.md").write_text(f"---\nid: regions\ntitle: Regions\n---\n\n{sections}\n", encoding="utf-8")
    summary = summarize(Command("roles"), _index(knowledge, tmp_path / "data"))
    assert summary_chars(summary) <= MAX_SUMMARY_CHARS
    assert 1 <= len(summary.points) < 20
    assert summary.suggestions[-1] == "role Tundra Regional Director"


def test_suggested_prompts_ask_about_each_role_the_index_knows(hashed_guide) -> None:
    assert suggested_prompts(hashed_guide) == [
        "What does a Chief Medical Officer do?",
        "What does a Medical Director do?",
        "What does a Vice President of Medical Affairs do?",
        "What does a Chief Quality Officer do?",
    ]
    assert len(suggested_prompts(hashed_guide, limit=2)) == 2


def test_a_second_document_gets_summaries_without_code_changes(two_documents) -> None:
    for spelling in ("cmio", "Chief Medical Information Officer", "medical information officer"):
        summary = summarize(Command("role", spelling), two_documents)
        assert summary.title == "Chief Medical Information Officer (CMIO)"
        assert any(t.startswith("The Chief Medical Information Officer (CMIO) leads") for t in _texts(summary))
        assert any(t.startswith("The CMIO is responsible for clinician adoption") for t in _texts(summary))
        assert summary.points[0].source.document_title == "Clinical Informatics Leadership"
    credential = summarize(Command("credential", "famia"), two_documents)
    assert credential.kind == "credential"
    assert _texts(credential)[0].startswith("The Fellow of the American Medical Informatics Association (FAMIA)")
    assert "Chief Medical Information Officer (CMIO)" in [p.label for p in summarize(Command("roles"), two_documents).points]
    assert "What does a Chief Medical Information Officer do?" in suggested_prompts(two_documents, limit=20)


def test_path_still_follows_the_main_guide_when_a_document_is_added(two_documents, hashed_guide) -> None:
    assert _texts(summarize(Command("path"), two_documents)) == _texts(summarize(Command("path"), hashed_guide))


def test_an_index_without_entities_answers_plainly(hashed_guide) -> None:
    bare = replace(hashed_guide, entities={})
    assert summarize(Command("role", "vpma"), bare).kind == "unknown"
    assert summarize(Command("path"), bare).kind == "path"
    assert suggested_prompts(bare) == []
