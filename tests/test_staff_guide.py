"""The dashboard's Guide page over HTTP: the documents and their sections' use, a change previewed against
a candidate index (nothing live changes), published (members get the new answer), and rolled back.

The server is the real one (`create_app`: every adapter, and the runtime whose hot reload serves a published
index), in process, over a copy of the guide whose
question banks are thinned to every 12th question, so an index builds in seconds; the repo's own
knowledge/ is never written. Members' questions and votes arrive through `/api/ask` and `/api/feedback`.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import DummyCookieJar, FormData
from aiohttp.test_utils import TestClient, TestServer

from adapters.staff import STAFF_COOKIE
from bot.indexing import build_index, source_hash
from bot.server import create_app
from bot.settings import PROJECT_ROOT, Settings
from bot.wiring import build_guidebot
from guidebot_testing.servers import seed_index
from index.embedder import Embedder
from index.guide_index import BANK
from tests.test_staff_dashboard import Dashboard

DOCUMENT = "cmo-career-path"
SECTION = "developing-executive-competencies"
NEW_SENTENCE = "Media training prepares physician executives to speak with journalists and the public during a hospital crisis."
REFUSED_TODAY = "How should a CMO talk to journalists during a crisis?"
ANSWERED = "What does a VPMA do?"
BANK_STEP = 12


@pytest.fixture(scope="module")
def small_guide(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The guide's document and glossary with every 12th bank question, indexed once for the module."""
    root = tmp_path_factory.mktemp("small-guide")
    knowledge = root / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge" / "documents", knowledge / "documents")
    shutil.copy2(PROJECT_ROOT / "knowledge" / "glossary.yaml", knowledge / "glossary.yaml")
    (knowledge / "questions").mkdir()
    for path in sorted((PROJECT_ROOT / "knowledge" / "questions").glob("*.yaml")):
        bank = yaml.safe_load(path.read_text(encoding="utf-8"))
        bank["questions"] = {key: questions[::BANK_STEP] for key, questions in bank["questions"].items()}
        (knowledge / "questions" / path.name).write_text(yaml.safe_dump(bank, allow_unicode=True), encoding="utf-8")
    build_index(Settings(knowledge_dir=knowledge, data_dir=root / "data"), embedder)
    return root


@pytest.fixture
async def guide(small_guide: Path, embedder: Embedder, tmp_path: Path) -> AsyncIterator[Dashboard]:
    shutil.copytree(small_guide / "knowledge", tmp_path / "knowledge")
    seed_index(small_guide / "data", tmp_path / "data")
    shutil.copytree(small_guide / "data" / "embeddings", tmp_path / "data" / "embeddings")
    settings = Settings(knowledge_dir=tmp_path / "knowledge", data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path}/state.sqlite3")
    guidebot = build_guidebot(settings, embedder)
    client = TestClient(TestServer(create_app(settings, guidebot, index_poll_seconds=0.2), host="127.0.0.1"), cookie_jar=DummyCookieJar())
    await client.start_server()
    yield Dashboard(client, guidebot)
    await asyncio.to_thread(guidebot.guide.wait, 120)
    await client.close()


def document_file(guide: Dashboard) -> Path:
    return guide.guidebot.settings.documents_dir / f"{DOCUMENT}.md"


async def until_finished(guide: Dashboard, session: str) -> dict[str, Any]:
    """The Guide page's JSON once its job has finished (a build and ~200 questions answered twice: seconds)."""
    for _ in range(600):
        data = await (await guide.get("/staff/api/guide", session)).json()
        if data["job"] is None or data["job"]["finished"]:
            return data
        await asyncio.sleep(0.2)
    raise AssertionError("the Guide page's job did not finish in two minutes")


async def editor_text(guide: Dashboard, session: str) -> str:
    page = await (await guide.get(f"/staff/guide?edit={DOCUMENT}", session)).text()
    form = re.search(rf'<form id="{SECTION}".*?<textarea[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert form is not None, "the editor of the section the link names"
    return form.group(1).replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")


async def test_the_page_lists_each_document_its_version_and_its_sections_quoted_and_voted(guide: Dashboard) -> None:
    first, second = await guide.ask(ANSWERED), await guide.ask(ANSWERED)
    refused = await guide.ask(REFUSED_TODAY)
    assert first["answered"] and second["answered"] and not refused["answered"]
    await guide.vote(first["answer_id"], "up")
    await guide.vote(second["answer_id"], "down")
    await guide.vote(refused["answer_id"], "down")
    quoted: dict[str, int] = {}
    for answer in (first, second):
        for label in {p["source"] for p in answer["passages"]}:
            quoted[label] = quoted.get(label, 0) + 1
    session, _csrf = await guide.sign_in()

    response = await guide.get("/staff/guide", session)
    page = await response.text()
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    assert "<script" not in page and "style=" not in page and 'http-equiv="refresh"' not in page
    assert "How to Become a Chief Medical Officer: A Career Path</h2>" in page and "version 1" in page and "dated 2026-11-25" in page
    vpma = re.search(r"<tr><th scope=\"row\">(?:&nbsp;)*Vice President of Medical Affairs</th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>", page)
    label = "How to Become a Chief Medical Officer: A Career Path › Vice President of Medical Affairs"
    assert vpma is not None and vpma.groups() == (str(quoted[label]), "1", "1")
    assert f'href="/staff/guide?edit={DOCUMENT}#{SECTION}"' in page

    data = await (await guide.get("/staff/api/guide", session)).json()
    (doc,) = data["documents"]
    assert doc["id"] == DOCUMENT and doc["version"] == "1" and re.fullmatch(r"[0-9a-f]{12}", doc["hash"])
    sections = {s["label"]: s for s in doc["sections"]}
    assert len(sections) == 10 and sections[label]["quoted"] == quoted[label] == 2
    assert {(s["label"], s["quoted"]) for s in doc["sections"] if s["quoted"]} == set(quoted.items())
    assert (sections[label]["up"], sections[label]["down"]) == (1, 1)
    assert sum(s["down"] for s in doc["sections"]) == len(quoted), "a vote on a refusal is on no section of the guide"
    assert doc["kept_versions"] == [] and data["job"] is None and data["preview"] is None


async def test_a_previewed_section_edit_changes_nothing_live_then_publishes_and_rolls_back(guide: Dashboard) -> None:
    assert (await guide.ask(REFUSED_TODAY))["answered"] is False
    session, csrf = await guide.sign_in()
    original = document_file(guide).read_bytes()
    text = await editor_text(guide, session)
    assert text.startswith("Attaining C-suite status demands advanced non-clinical skills")

    response = await guide.post("/staff/guide/preview", {"csrf": csrf, "document": DOCUMENT, "section": SECTION, "text": f"{text}\n\n{NEW_SENTENCE}"}, session)
    assert response.status == 303 and response.headers["Location"] == "/staff/guide"
    running = await (await guide.get("/staff/guide", session)).text()
    assert 'http-equiv="refresh"' in running and "Preview running" in running
    busy = await guide.post("/staff/guide/preview", {"csrf": csrf, "document": DOCUMENT, "section": SECTION, "text": "Another text."}, session)
    assert busy.status == 409 and "Another preview" in await busy.text()

    data = await until_finished(guide, session)
    assert data["job"]["error"] is None and data["preview"]["asked"]["logged questions"] == 1
    assert data["preview"]["counts"]["logged questions"]["newly answered"] == 1
    preview = await (await guide.get("/staff/api/guide/preview", session)).json()
    (change,) = [c for c in preview["changes"] if c["question"] == REFUSED_TODAY]
    assert change["kind"] == "newly answered" and not change["before"]["answered"]
    assert change["after"]["lead"].startswith(NEW_SENTENCE) and change["after"]["section"].endswith("› Developing Executive Competencies")
    page = await (await guide.get("/staff/guide", session)).text()
    assert "Newly answered: " in page and REFUSED_TODAY in page and 'http-equiv="refresh"' not in page
    assert document_file(guide).read_bytes() == original, "nothing is written before publishing"
    assert (await guide.ask(REFUSED_TODAY))["answered"] is False, "members still get the live answers"

    assert (await guide.post("/staff/guide/publish", {"csrf": csrf}, session)).status == 303
    data = await until_finished(guide, session)
    assert data["job"]["kind"] == "publish" and data["job"]["error"] is None and data["preview"] is None
    assert guide.guidebot.engines.engine().index.manifest.corpus_hash == preview["candidate_corpus_hash"], "the candidate build itself"
    answer = await guide.ask(REFUSED_TODAY)
    assert answer["answered"] and answer["lead"][0]["text"] == NEW_SENTENCE, "the new sentence leads the answer"
    published = document_file(guide).read_text(encoding="utf-8")
    assert NEW_SENTENCE in published and "\nversion: 2\n" in published
    (doc,) = data["documents"]
    assert doc["version"] == "2" and len(doc["kept_versions"]) == 1
    kept = doc["kept_versions"][0]
    history = guide.guidebot.settings.data_dir / "guide-history" / DOCUMENT / kept["name"]
    assert history.read_bytes() == original
    assert "Published: " in await (await guide.get("/staff/guide", session)).text()

    assert (await guide.post("/staff/guide/rollback", {"csrf": csrf, "document": DOCUMENT, "version": kept["name"]}, session)).status == 303
    data = await until_finished(guide, session)
    assert data["job"]["kind"] == "roll back" and data["job"]["error"] is None
    assert document_file(guide).read_bytes() == original
    assert (await guide.ask(REFUSED_TODAY))["answered"] is False, "the old answer is back"
    assert len(data["documents"][0]["kept_versions"]) == 2, "the published version is kept too, to roll forward"

    audit = guide.guidebot.store.audit_log()
    assert [row["action"] for row in audit[:3]] == ["guide roll back", "guide publish", "guide preview"]
    assert all(REFUSED_TODAY not in str(row) and NEW_SENTENCE not in str(row) for row in audit)


async def test_an_uploaded_markdown_file_is_previewed_discarded_and_published_over_newer_knowledge_and_anything_else_refused(guide: Dashboard) -> None:
    session, csrf = await guide.sign_in()
    original = document_file(guide).read_text(encoding="utf-8")

    async def upload(data: bytes, name: str = f"{DOCUMENT}.md", content_type: str = "text/markdown", **headers: str) -> Any:
        form = FormData()
        form.add_field("csrf", csrf)
        form.add_field("document", DOCUMENT)
        form.add_field("file", data, filename=name, content_type=content_type)
        return await guide.client.post("/staff/guide/upload", data=form, headers={"Cookie": f"{STAFF_COOKIE}={session}", **headers}, allow_redirects=False)

    for data, name, content_type, problem in (
        (b"<html><body>Hi</body></html>", "guide.html", "text/html", "Upload a Markdown file"),
        (b"# Title\n\n" + b"word " * 120_000, f"{DOCUMENT}.md", "text/markdown", "larger than 512 KB"),
        (b"\xff\xfe not utf-8", f"{DOCUMENT}.md", "text/markdown", "not UTF-8"),
        (original.replace(f"id: {DOCUMENT}", "id: another-guide").encode(), f"{DOCUMENT}.md", "text/markdown", "names document"),
        (original.encode(), f"{DOCUMENT}.md", "text/markdown", "already published"),
    ):
        response = await upload(data, name, content_type)
        assert response.status == 400 and problem in await response.text(), problem
    cross_site = await upload(original.encode(), **{"Origin": "https://evil.example"})
    assert cross_site.status == 403

    changed = original.replace("Engaging with executive search firms is also a necessary step", "Engaging with executive search firms is also an essential step", 1)
    assert changed != original
    assert (await upload(changed.encode())).status == 303
    data = await until_finished(guide, session)
    assert data["job"]["error"] is None and data["preview"]["change"] == "uploaded a new version"
    assert (await guide.post("/staff/guide/discard", {"csrf": csrf}, session)).status == 303
    data = await until_finished(guide, session)
    assert data["preview"] is None and document_file(guide).read_text(encoding="utf-8") == original
    assert [row["action"] for row in guide.guidebot.store.audit_log()[:2]] == ["guide preview discarded", "guide preview"]

    assert (await upload(changed.encode())).status == 303
    candidate = (await until_finished(guide, session))["preview"]["candidate_corpus_hash"]
    document_file(guide).write_text(original.replace("necessary step", "needed step", 1), encoding="utf-8")
    assert (await guide.post("/staff/guide/publish", {"csrf": csrf}, session)).status == 303
    data = await until_finished(guide, session)
    assert "changed since this preview" in data["job"]["error"] and data["preview"] is not None, "another edit is never overwritten"
    document_file(guide).write_text(original, encoding="utf-8")
    bank = guide.guidebot.settings.knowledge_dir / "questions" / "out-of-scope.yaml"
    bank.write_text(bank.read_text(encoding="utf-8") + "  added:\n    - What does a CMO's office look like?\n", encoding="utf-8")
    assert (await guide.post("/staff/guide/publish", {"csrf": csrf}, session)).status == 303
    data = await until_finished(guide, session)
    assert data["job"]["error"] is None and document_file(guide).read_text(encoding="utf-8") == changed
    served = guide.guidebot.engines.engine().index
    assert served.manifest.corpus_hash == source_hash(guide.guidebot.settings) != candidate, "rebuilt with the bank as it is now"
    assert "What does a CMO's office look like?" in json.loads((served.path / BANK).read_text(encoding="utf-8"))["out_texts"]


async def test_changes_need_a_session_this_site_and_the_csrf_token(guide: Dashboard) -> None:
    assert (await guide.get("/staff/guide")).headers["Location"] == "/staff/sign-in"
    assert (await guide.get("/staff/api/guide")).status == 401
    assert (await guide.post("/staff/guide/publish", {})).status == 401
    session, csrf = await guide.sign_in()
    change = {"document": DOCUMENT, "section": SECTION, "text": NEW_SENTENCE}
    assert (await guide.post("/staff/guide/preview", change, session)).status == 403
    assert (await guide.post("/staff/guide/preview", {"csrf": csrf, **change}, session, Origin="https://evil.example")).status == 403
    assert (await guide.post("/staff/guide/rollback", {"csrf": "0" * 64, "document": DOCUMENT, "version": "x"}, session)).status == 403
    assert (await guide.get("/staff/api/guide", session)).status == 200 and (await guide.get("/staff/api/guide/preview", session)).status == 404
    rollback = await guide.post("/staff/guide/rollback", {"csrf": csrf, "document": DOCUMENT, "version": "../../state.sqlite3"}, session)
    assert rollback.status == 400 and "no such kept version" in await rollback.text()
    assert (await guide.get("/staff/guide?edit=no-such-document", session)).status == 404
    assert (await guide.post("/staff/guide/publish", {"csrf": csrf}, session)).status == 400
    assert guide.guidebot.guide.job() is None, "nothing was started"
