"""Roles, settings, credentials and stages are derived from the documents, not written in code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from knowledge.acronyms import collect_acronyms
from knowledge.chunking import Chunk, chunk_documents
from knowledge.entities import Entities, classify, derive_entities, load_glossary, roles_in_heading
from knowledge.loaders import load_documents

KNOWLEDGE = PROJECT_ROOT / "knowledge"


def _derive(documents_dir: Path, glossary: Path) -> tuple[Entities, list[Chunk], dict]:
    docs = load_documents(documents_dir)
    chunks = chunk_documents(docs)
    data = derive_entities(docs, chunks, collect_acronyms(c.text for c in chunks), glossary)
    return Entities.from_json(data), chunks, data


@pytest.fixture(scope="module")
def guide() -> tuple[Entities, list[Chunk], dict]:
    return _derive(KNOWLEDGE / "documents", KNOWLEDGE / "glossary.yaml")


def test_roles_come_from_headings_and_acronym_definitions(guide) -> None:
    entities, _, _ = guide
    roles = {e.name: e.acronym for e in entities.of_kind("role")}
    assert roles == {
        "Chief Medical Officer": "CMO",
        "Medical Director": None,
        "Vice President of Medical Affairs": "VPMA",
        "Chief Quality Officer": "CQO",
    }


def test_credentials_are_recognised_by_their_long_forms(guide) -> None:
    entities, _, _ = guide
    assert [e.acronym for e in entities.of_kind("credential")] == ["MD", "DO", "MBA", "MHA", "MMM", "CPE"]


def test_acronyms_that_are_neither_role_nor_credential_are_left_out(guide) -> None:
    entities, _, _ = guide
    acronyms = {e.acronym for e in entities.entities}
    assert "QI" not in acronyms and "P&L" not in acronyms


def test_the_three_cmo_settings_come_from_the_sentences_that_contrast_them(guide) -> None:
    entities, _, _ = guide
    settings = entities.of_kind("setting")
    assert [s.setting for s in settings] == [
        "hospital or health system",
        "health insurance payer",
        "pharmaceutical or biotechnology company",
    ]
    assert {s.parent for s in settings} == {"cmo"}
    assert settings[1].defining[0].sentence.startswith("For a health insurance payer, the CMO focuses on")


def test_every_quoted_sentence_is_a_verbatim_sentence_of_the_chunk_it_cites(guide) -> None:
    entities, chunks, _ = guide
    by_id = {c.id: c for c in chunks}
    quoted = [m for e in entities.entities for m in (*e.defining, *e.mentions)] + [s.lead for s in entities.sections]
    assert quoted
    for mention in quoted:
        assert mention.sentence in by_id[mention.chunk_id].sentences


def test_mentions_are_in_document_order(guide) -> None:
    entities, chunks, _ = guide
    order = {(c.id, s): n for n, (c, s) in enumerate((c, s) for c in chunks for s in c.sentences)}
    for entity in entities.entities:
        positions = [order[(m.chunk_id, m.sentence)] for m in entity.mentions]
        assert positions == sorted(positions), entity.key


def test_a_role_is_defined_by_its_own_section_and_by_its_acronym_definition(guide) -> None:
    entities, _, _ = guide
    cmo = entities.by_key("cmo")
    assert cmo is not None
    assert [m.sentence[:45] for m in cmo.defining] == [
        "The Chief Medical Officer position is a senio",
        "The career path to Chief Medical Officer (CMO",
    ]
    director = entities.by_key("medical-director")
    assert director is not None and director.defining[0].sentence.startswith("A Medical Director role often serves")


def test_stages_follow_the_guide_and_leave_out_the_goal_and_the_credentials(guide) -> None:
    entities, _, data = guide
    stages = entities.stages("cmo-career-path")
    assert [s.heading for s in stages] == [
        "Gaining Deep Clinical and Operational Expertise",
        "Medical Director Roles",
        "Vice President of Medical Affairs",
        "Chief Quality Officer",
        "Developing Executive Competencies",
        "Strategic Networking and C-Suite Recruitment",
    ]
    assert stages[0].lead.sentence.startswith("The foundation of a successful CMO career")
    assert data["stages"] == [s.key for s in stages]
    assert entities.documents[0].destination == "cmo"


def test_the_derived_entities_are_json_that_reads_back_unchanged(guide) -> None:
    _, _, data = guide
    assert json.loads(json.dumps(data)) == data
    assert Entities.from_json(data).to_json() == data


def test_the_glossary_adds_aliases_to_the_entities_it_names(tmp_path: Path) -> None:
    glossary = tmp_path / "glossary.yaml"
    glossary.write_text("aliases:\n  VPMA: [medical affairs boss]\n  health insurance payer: [insurer doc]\n")
    entities, _, _ = _derive(KNOWLEDGE / "documents", glossary)
    assert "medical affairs boss" in entities.by_key("vpma").aliases
    assert "insurer doc" in entities.by_key("cmo-health-insurance-payer").aliases


def test_a_glossary_that_holds_anything_but_aliases_is_refused(tmp_path: Path) -> None:
    glossary = tmp_path / "glossary.yaml"
    glossary.write_text("aliases:\n  VPMA: [vp]\nsummaries:\n  VPMA: The VPMA runs everything.\n")
    with pytest.raises(ValueError, match="only an `aliases:` mapping"):
        load_glossary(glossary)


def test_a_missing_glossary_is_fine(tmp_path: Path) -> None:
    entities, _, _ = _derive(KNOWLEDGE / "documents", tmp_path / "absent.yaml")
    assert entities.by_key("vpma") is not None


@pytest.mark.parametrize(
    ("long_form", "after", "kind"),
    [
        ("Chief Nursing Officer", "", "role"),
        ("Vice President of Clinical Operations", "", "role"),
        ("Doctor of Philosophy", "", "credential"),
        ("Master of Public Health", "", "credential"),
        ("Certified Professional in Healthcare Quality", "", "credential"),
        ("Physician Leadership Program", " credential, awarded by", "credential"),
        ("quality improvement", " committees", None),
        ("profit and loss", " statements", None),
    ],
)
def test_role_or_credential_is_decided_by_generic_cues(long_form: str, after: str, kind: str | None) -> None:
    assert classify(long_form, after) == kind


@pytest.mark.parametrize(
    ("heading", "roles"),
    [
        ("Medical Director Roles", ["Medical Director"]),
        ("Understanding the Scope of the Chief Medical Officer Role", ["Chief Medical Officer"]),
        ("Vice President of Medical Affairs", ["Vice President of Medical Affairs"]),
        ("Why Medical Directors Matter", ["Medical Director"]),
        ("Chief of Staff Positions", ["Chief of Staff"]),
        ("Becoming a Chief Nursing Officer", ["Chief Nursing Officer"]),
        ("Leading Medical Directors", ["Medical Director"]),
        ("Officer Training", []),
        ("Developing Executive Competencies", []),
        ("Strategic Networking and C-Suite Recruitment", []),
    ],
)
def test_a_heading_names_the_roles_it_announces(heading: str, roles: list[str]) -> None:
    assert roles_in_heading(heading) == roles


def test_one_sentence_opening_with_a_phrase_is_not_a_setting(tmp_path: Path) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "nursing.md").write_text(
        "---\nid: nursing\ntitle: Nursing Leadership\n---\n\n"
        "## The Chief Nursing Officer\n\n"
        "The Chief Nursing Officer (CNO) leads nursing practice across the organization. "
        "For a successful transition, the CNO must build trust with every unit.\n",
        encoding="utf-8",
    )
    entities, _, _ = _derive(documents, tmp_path / "absent.yaml")
    assert [e.key for e in entities.entities] == ["cno"]
