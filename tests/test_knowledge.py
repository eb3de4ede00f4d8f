"""Loading documents in every supported format and cutting them into chunks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from knowledge.acronyms import canonical_names, collect_acronyms, expand_acronyms
from knowledge.chunking import MAX_WORDS, chunk_document, chunk_documents
from knowledge.loaders import DocumentError, load_document, load_documents

GUIDE_MD = PROJECT_ROOT / "knowledge" / "documents" / "cmo-career-path.md"
GUIDE_TXT = PROJECT_ROOT.parent / "shared" / "knowledge-source" / "cmo-career-path.txt"


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def test_the_guide_is_kept_word_for_word_with_markdown_headings_and_front_matter():
    source = GUIDE_TXT.read_text(encoding="utf-8") if GUIDE_TXT.exists() else None
    doc = load_document(GUIDE_MD)
    assert doc.id == "cmo-career-path"
    assert doc.title == "How to Become a Chief Medical Officer: A Career Path"
    assert doc.version and doc.date
    paragraphs = [b.text for b in doc.blocks if b.kind == "paragraph"]
    headings = [b.text for b in doc.blocks if b.kind == "heading"]
    assert "Vice President of Medical Affairs" in headings
    if source is not None:
        for para in _paragraphs(source)[1:]:
            assert para in paragraphs or para in headings


def test_plain_text_short_lines_without_end_punctuation_are_headings():
    doc = load_document(GUIDE_TXT) if GUIDE_TXT.exists() else None
    if doc is None:
        pytest.skip("../shared/knowledge-source is not beside the repo")
    md = load_document(GUIDE_MD)
    assert doc.title == md.title
    assert [b.text for b in doc.blocks] == [b.text for b in md.blocks]


def test_html_documents_keep_headings_paragraphs_and_canonical_url(tmp_path: Path):
    page = tmp_path / "cmio.html"
    page.write_text(
        "<html><head><title>Informatics Leadership</title>"
        '<link rel="canonical" href="https://example.org/cmio"></head><body>'
        "<nav>skip me</nav><h1>Informatics Leadership</h1><h2>Chief Medical Information Officer</h2>"
        "<p>The Chief Medical Information Officer (CMIO) leads clinical informatics.</p>"
        "<script>alert(1)</script></body></html>",
        encoding="utf-8",
    )
    doc = load_document(page)
    assert doc.title == "Informatics Leadership"
    assert doc.url == "https://example.org/cmio"
    assert [b.text for b in doc.blocks] == [
        "Chief Medical Information Officer",
        "The Chief Medical Information Officer (CMIO) leads clinical informatics.",
    ]


def test_pdf_documents_are_read_as_text(tmp_path: Path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, "Physician Wellness Guide\n\nBurnout Prevention\n\nLeaders should measure burnout every year.")
    path = tmp_path / "wellness.pdf"
    pdf.output(str(path))
    doc = load_document(path)
    assert doc.title == "Physician Wellness Guide"
    assert any(b.kind == "heading" and b.text == "Burnout Prevention" for b in doc.blocks)
    assert any("measure burnout every year" in b.text for b in doc.blocks)


def test_unreadable_documents_are_clear_errors(tmp_path: Path):
    (tmp_path / "bad.pdf").write_bytes(b"not a pdf at all")
    with pytest.raises(DocumentError, match="bad.pdf"):
        load_document(tmp_path / "bad.pdf")
    (tmp_path / "notes.docx").write_text("x")
    with pytest.raises(DocumentError, match="unsupported format"):
        load_document(tmp_path / "notes.docx")


def test_two_documents_with_one_id_are_refused(tmp_path: Path):
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text("---\nid: same\n---\n# T\n\nSome text here.\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="same"):
        load_documents(tmp_path)


def test_chunks_never_cross_a_section_and_quote_the_document_verbatim():
    doc = load_document(GUIDE_MD)
    chunks = chunk_document(doc)
    paragraphs = [b.text for b in doc.blocks if b.kind == "paragraph"]
    sections = {b.text for b in doc.blocks if b.kind == "heading"}
    for chunk in chunks:
        for part in chunk.text.split("\n\n"):
            assert part in paragraphs
        assert chunk.section == "" or chunk.section in sections
        assert chunk.document_title == doc.title
        assert chunk.text not in chunk.embed_text.split(": ", 1)[0]
        assert doc.title in chunk.embed_text and chunk.text in chunk.embed_text
    vpma = next(c for c in chunks if c.section == "Vice President of Medical Affairs")
    assert vpma.heading_trail == ("Transitioning to Formal Administrative Leadership", "Vice President of Medical Affairs")
    assert [c.position for c in chunks] == list(range(len(chunks)))


def test_chunk_ids_are_stable_across_rebuilds():
    first = [c.id for c in chunk_documents([load_document(GUIDE_MD)])]
    second = [c.id for c in chunk_documents([load_document(GUIDE_MD)])]
    assert first == second
    assert len(set(first)) == len(first)
    assert "cmo-career-path#medical-director-roles-1" in first


def test_long_paragraphs_are_cut_between_sentences(tmp_path: Path):
    sentence = "Physician leaders review the operating budget with the finance team every month."
    path = tmp_path / "long.md"
    path.write_text("# Long\n\n## Budget\n\n" + " ".join([sentence] * 60) + "\n", encoding="utf-8")
    chunks = chunk_document(load_document(path))
    assert len(chunks) > 1
    for chunk in chunks:
        assert len(chunk.text.split()) <= MAX_WORDS
        assert chunk.text.endswith("month.")


def test_acronyms_defined_in_the_guide_are_found_and_expanded():
    acronyms = collect_acronyms([load_document(GUIDE_MD).text])
    assert acronyms["DO"] == "Doctor of Osteopathic Medicine"
    assert acronyms["VPMA"] == "Vice President of Medical Affairs"
    assert acronyms["CPE"] == "Certified Physician Executive"
    assert "Doctor of Osteopathic Medicine" in expand_acronyms("Can a DO become a CMO?", acronyms)
    assert "Osteopathic" not in expand_acronyms("What do I do first?", acronyms)
    assert "Vice President of Medical Affairs" in expand_acronyms("what does a vpma do", acronyms)


def test_names_of_three_capitalised_words_get_their_initials_but_a_sentence_start_does_not():
    acronyms = collect_acronyms([load_document(GUIDE_MD).text])
    assert acronyms["AAPL"] == "American Association for Physician Leadership"
    found = collect_acronyms(["Regardless Of Setting matters. The Joint Commission Accreditation Board meets."])
    assert "JCAB" in found and "ROS" not in found


def test_every_spelling_of_a_defined_name_reads_as_its_acronym():
    acronyms = collect_acronyms([load_document(GUIDE_MD).text])
    for typed in ("Chief Medical Officer", "chief medical officer", "chief med officer", "Chief  Medical\nOfficer", "Chief Medical Officer (CMO)", "C.M.O.", "C.M.O"):
        assert canonical_names(f"What does a {typed} do?", acronyms) == "What does a CMO do?", typed
    assert canonical_names("Chief Medical Officers and VPs", acronyms) == "CMOs and vice presidents"
    assert canonical_names("the Vice President of Medical Affairs", acronyms) == "the VPMA"
    assert canonical_names("a medical officer, and a chief officer", acronyms) == "a medical officer, and a chief officer"
    assert canonical_names("documents and admins", acronyms) == "documents and admins"
    assert canonical_names("Do I need an M.B.A., e.g. for the U.S.?", acronyms) == "Do I need an MBA, e.g. for the US?"
    assert canonical_names("is a c.m.o. or a v.p. of med affairs an m.d.?", acronyms) == "is a CMO or a VPMA an MD?"
    assert canonical_names("i.e. at 9 a.m., e.g. in the u.k.", acronyms) == "i.e. at 9 a.m., e.g. in the u.k."
    chat = "which regs and certs matter after 10 yrs as a dept mgr? my org's ops are a mess lol"
    assert canonical_names(chat, acronyms) == (
        "which regulations and certifications matter after 10 years as a department manager? my organization's operations are a mess lol"
    )
    assert canonical_names("Registrations, certainly, in the pterodactyl department", acronyms) == "Registrations, certainly, in the pterodactyl department"


def test_a_description_of_the_top_physician_job_reads_as_its_name_but_the_best_doctors_do_not():
    acronyms = collect_acronyms([load_document(GUIDE_MD).text])
    for typed in ("the top physician exec", "the top doc", "the head medical executive", "the senior-most physician leader", "the top doctor"):
        assert canonical_names(f"What does {typed} do?", acronyms) == "What does the CMO do?", typed
    assert canonical_names("the top physician role at a hospital", acronyms) == "the CMO role at a hospital"
    assert canonical_names("What Do Top Physician Leaders Earn?", acronyms) == "What Do CMOs Earn?"
    for kept in ("Are top doctors paid more?", "a top-doctor award", "Is a chief physician executive a CMO?", "the top medical schools"):
        assert canonical_names(kept, acronyms) == kept
    assert canonical_names("the top doctor", {"MBA": "Master of Business Administration"}) == "the top doctor"


def test_hospital_shorthand_in_capitals_reads_as_the_guides_words_but_chat_words_stay():
    acronyms = collect_acronyms([load_document(GUIDE_MD).text])
    assert canonical_names("our CMO asked me to join the UR committee", acronyms) == "our CMO asked me to join the utilization review committee"
    assert canonical_names("does VBP tie into UM?", acronyms) == "does value-based purchasing tie into utilization management?"
    assert canonical_names("um, whats ur advice on the vbp stuff", acronyms) == "um, whats ur advice on the vbp stuff"


def test_the_knowledge_base_yaml_reads_the_same_with_libyaml_and_refuses_python_objects(tmp_path) -> None:
    import yaml

    from knowledge.yamlfile import read_yaml

    files = sorted((PROJECT_ROOT / "knowledge").rglob("*.yaml"))
    assert files
    for path in files:
        assert read_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8")), path.name
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text("questions: !!python/object/apply:os.system ['true']\n", encoding="utf-8")
    with pytest.raises(yaml.YAMLError):
        read_yaml(hostile)
