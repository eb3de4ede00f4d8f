"""The server: health, readiness, metrics, the /api/ask and /api/feedback contracts, document pages,
hot reload, restarts and privacy.

Contract tests drive the aiohttp app in-process (with the session's model); the
end-to-end tests run `guidebot serve` as a subprocess with the real model.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from markupsafe import escape
from aiohttp.test_utils import TestClient, TestServer

import bot.server as server_module
from adapters.console import MAX_ASK_BYTES, SESSION_COOKIE
from bot.answer import Answer
from bot.docpages import build_pages, render_document, safe_url
from bot.server import INDEX_POLL_SECONDS, AdapterError, create_app
from bot.settings import PROJECT_ROOT, Settings
from bot.store import SqlStore
from bot.wiring import build_guidebot
from guidebot_testing.servers import GUIDEBOT, seed_index, serve, server_env
from knowledge.chunking import Chunk

QUESTION = "What does a VPMA do?"
OFF_TOPIC = "What is a good recipe for banana bread?"
PHI_QUESTION = "My patient John Smith, MRN 84736251, DOB 03/14/1961, wants to know what a VPMA does"
PHI_FRAGMENTS = ("John Smith", "84736251", "03/14/1961")


# ---------------------------------------------------------------------------------------------
# In-process app


def _settings(data_dir: Path) -> Settings:
    return Settings(knowledge_dir=PROJECT_ROOT / "knowledge", data_dir=data_dir)


@pytest.fixture()
async def client(indexed_data_dir: Path, embedder):
    settings = _settings(indexed_data_dir)
    guidebot = build_guidebot(settings, embedder)
    app = create_app(settings, guidebot, index_poll_seconds=0.2)
    async with TestClient(TestServer(app)) as test_client:
        await _until_ready(test_client)
        yield test_client


async def _until_ready(test_client: TestClient, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = await test_client.get("/readyz")
        if resp.status == 200:
            return
        await _sleep(0.05)
    raise TimeoutError("not ready")


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


async def _ask(test_client: TestClient, question: str, **kwargs):
    resp = await test_client.post("/api/ask", json={"question": question}, **kwargs)
    return resp.status, await resp.json()


async def test_healthz_answers_without_touching_the_index(client: TestClient) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok"}


async def test_readyz_reports_the_loaded_index_and_the_store(client: TestClient) -> None:
    resp = await client.get("/readyz")
    body = await resp.json()
    assert resp.status == 200
    assert body["status"] == "ready" and body["store"] == "ok"
    assert body["index"]["documents"] >= 1 and body["index"]["chunks"] > 0


async def test_readyz_is_503_with_a_reason_when_there_is_no_index(tmp_path: Path, embedder) -> None:
    settings = _settings(tmp_path / "empty")
    app = create_app(settings, build_guidebot(settings, embedder))
    async with TestClient(TestServer(app)) as test_client:
        await _sleep(0.2)
        resp = await test_client.get("/readyz")
        body = await resp.json()
        assert resp.status == 503
        assert body["status"] in ("not_ready", "loading")
        resp = await test_client.post("/api/ask", json={"question": QUESTION})
        assert resp.status == 503
        assert (await resp.json())["error"] == "not_ready"


async def test_readyz_is_503_when_the_state_store_is_unreachable(client: TestClient, monkeypatch) -> None:
    guidebot = client.app[server_module.GUIDEBOT_KEY]
    monkeypatch.setattr(guidebot.store, "ping", lambda: False)
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert (await resp.json())["reason"] == "state store unreachable"


async def test_metrics_count_questions_and_time_http_requests(client: TestClient) -> None:
    await _ask(client, QUESTION)
    await client.get("/nowhere")
    text = await (await client.get("/metrics")).text()
    assert 'guidebot_questions_total{outcome="answered",platform="console"}' in text
    assert re.search(r'guidebot_http_request_seconds_bucket\{le="0.005",method="POST",route="/api/ask"\}', text)
    assert 'guidebot_http_requests_total{method="POST",route="/api/ask",status="200"}' in text
    assert 'route="unmatched",status="404"' in text
    assert "guidebot_answer_seconds_bucket" in text


async def test_ask_answers_with_the_same_object_as_the_cli(client: TestClient, engine) -> None:
    status, body = await _ask(client, QUESTION)
    expected = engine.answer(QUESTION).to_json()
    assert status == 200
    assert set(body) == set(expected)
    assert body["answered"] is True and body["reason"] is None
    assert [p["chunk_id"] for p in body["passages"]] == [p["chunk_id"] for p in expected["passages"]]
    for got, want in zip(body["passages"], expected["passages"]):
        assert {k: v for k, v in got.items() if k != "link"} == want
        assert got["link"].startswith(f"/docs/{want['document_id']}?chunk=")
    assert re.fullmatch(r"[0-9a-f]{16}", body["answer_id"])


async def test_a_command_replies_with_a_summary_that_has_a_kind(client: TestClient) -> None:
    status, body = await _ask(client, "role vpma")
    assert status == 200
    assert body["kind"] == "role"
    assert "Vice President of Medical Affairs" in body["title"]
    assert body["points"] and all(p["link"].startswith("/docs/") for p in body["points"])


async def test_an_off_topic_question_abstains_with_the_nearest_sections(client: TestClient) -> None:
    status, body = await _ask(client, OFF_TOPIC)
    assert status == 200
    assert body["answered"] is False and body["reason"] == "out_of_scope"
    assert body["passages"] == [] and body["message"]


async def test_a_phi_question_gets_the_privacy_reply(client: TestClient) -> None:
    status, body = await _ask(client, PHI_QUESTION)
    assert status == 200
    assert body["reason"] == "phi" and "patient" in body["message"]
    assert body["question"] == ""


async def test_an_empty_question_gets_the_empty_abstention(client: TestClient) -> None:
    status, body = await _ask(client, "   ")
    assert status == 200
    assert body["reason"] == "empty" and body["answered"] is False


async def test_a_20000_character_question_is_answered_from_its_first_part(client: TestClient) -> None:
    long_question = (QUESTION + " ") * (20_000 // (len(QUESTION) + 1))
    status, body = await _ask(client, long_question[:20_000])
    assert status == 200
    assert len(body["question"]) <= client.app[server_module.SETTINGS_KEY].max_question_chars


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        (b'{"question": "What does', "application/json", 400, "malformed_json"),
        (b"", "application/json", 400, "malformed_json"),
        (b'["What does a VPMA do?"]', "application/json", 400, "not_an_object"),
        (b'{"question": 42}', "application/json", 400, "invalid_question"),
        (b'{"question": null}', "application/json", 400, "invalid_question"),
        (b'{"question": ["a"]}', "application/json", 400, "invalid_question"),
        (b'{"q": "What does a VPMA do?"}', "application/json", 400, "missing_question"),
        (b'{"question": "caf\xe9 \xff"}', "application/json", 400, "invalid_utf8"),
        (b'{"question": "What does a VPMA do?"}', "text/plain", 415, "unsupported_media_type"),
        (b"question=What+does+a+VPMA+do", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b'{"question": "' + b"a" * MAX_ASK_BYTES + b'"}', "application/json", 413, "body_too_large"),
    ],
    ids=["truncated", "empty-body", "array", "number", "null", "list", "missing", "invalid-utf8", "text-plain",
         "form", "too-large"],
)
async def test_bad_input_to_ask_gets_a_json_error_never_a_500(
    client: TestClient, body: bytes, content_type: str, status: int, error: str
) -> None:
    resp = await client.post("/api/ask", data=body, headers={"Content-Type": content_type})
    assert resp.status == status
    assert resp.content_type == "application/json"
    payload = await resp.json()
    assert payload["error"] == error and payload["message"]


async def test_a_too_large_body_is_refused_even_without_a_content_length(client: TestClient) -> None:
    async def chunks():
        for _ in range(MAX_ASK_BYTES // 1024 + 2):
            yield b"x" * 1024

    resp = await client.post("/api/ask", data=chunks(), headers={"Content-Type": "application/json"})
    assert resp.status == 413


async def test_wrong_method_on_the_api_is_a_json_405(client: TestClient) -> None:
    resp = await client.get("/api/ask")
    assert resp.status == 405
    assert (await resp.json())["error"] == "method_not_allowed"
    assert "POST" in resp.headers["Allow"]


async def test_feedback_is_stored_once_per_session_and_a_second_click_replaces_it(client: TestClient) -> None:
    _, answer = await _ask(client, QUESTION)
    resp = await client.post("/api/feedback", json={"answer_id": answer["answer_id"], "value": "up"})
    assert resp.status == 200
    assert await resp.json() == {"ok": True, "answer_id": answer["answer_id"], "value": "up"}
    session = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value
    resp = await client.post("/api/feedback", json={"answer_id": answer["answer_id"], "value": "down"})
    assert resp.status == 200
    store = client.app[server_module.GUIDEBOT_KEY].store
    records = store.feedback_for(answer["answer_id"])
    assert [(r.value, r.user_hash, r.platform) for r in records] == [("down", store.member_hash("console", session), "console")]


@pytest.mark.parametrize(
    "payload",
    [{"answer_id": "abc", "value": "meh"}, {"value": "up"}, {"answer_id": 7, "value": "up"},
     {"answer_id": "<script>", "value": "up"}, {"answer_id": "abc", "value": "up", "comment": 5}],
)
async def test_bad_feedback_is_a_400(client: TestClient, payload: dict) -> None:
    resp = await client.post("/api/feedback", json=payload)
    assert resp.status == 400
    assert (await resp.json())["error"].startswith("invalid_")


async def test_every_source_link_opens_its_section_with_the_passage_highlighted(client: TestClient) -> None:
    _, answer = await _ask(client, QUESTION)
    for passage in answer["passages"]:
        path, _, fragment = passage["link"].partition("#")
        resp = await client.get(path)
        html = await resp.text()
        assert resp.status == 200 and resp.content_type == "text/html"
        assert f'id="{fragment}"' in html
        highlighted = re.findall(r'<section class="passage highlighted" id="[^"]+" data-chunk="([^"]+)"', html)
        assert highlighted == [passage["chunk_id"]]
        assert str(escape(passage["best_sentence"])) in html


async def test_a_document_page_has_an_anchor_for_every_section_the_index_knows(client: TestClient) -> None:
    index = client.app[server_module.GUIDEBOT_KEY].engines.index
    html = await (await client.get("/docs/cmo-career-path")).text()
    for chunk in index.chunks:
        assert f'id="{chunk.section_slug}"' in html
    assert 'class="passage highlighted"' not in html
    listing = await (await client.get("/docs")).text()
    assert 'href="/docs/cmo-career-path"' in listing


async def test_an_unknown_document_is_a_404_page(client: TestClient) -> None:
    resp = await client.get("/docs/no-such-document?chunk=x")
    assert resp.status == 404
    assert "Document not found" in await resp.text()


async def test_pages_are_sent_with_a_content_security_policy(client: TestClient) -> None:
    resp = await client.get("/docs/cmo-career-path")
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def _chunk(n: int, text: str, trail: tuple[str, ...], url: str | None = None, doc: str = "d") -> Chunk:
    return Chunk(f"{doc}#s-{n}", doc, "A <b>Guide</b>", trail, n, text, (text,), url)


def test_document_text_is_escaped_and_only_web_urls_are_shown() -> None:
    chunks = [
        _chunk(0, "Intro <script>alert(1)</script>", (), url="javascript:alert(1)"),
        _chunk(1, "Body & more", ("A <b>Guide</b>", "Roles <i>x</i>")),
    ]
    html = render_document(build_pages(chunks)["d"], "d#s-1")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html
    assert 'id="introduction"' in html and 'id="roles-i-x-i"' in html
    assert "Body &amp; more" in html
    assert safe_url("https://example.org/guide") == "https://example.org/guide"
    assert safe_url("javascript:alert(1)") is None and safe_url("ftp://x/y") is None


def test_a_document_with_a_url_in_its_front_matter_links_to_it() -> None:
    chunks = [_chunk(0, "Text.", ("Guide",), url="https://example.org/guide.pdf")]
    html = render_document(build_pages(chunks)["d"])
    assert 'Original document: <a href="https://example.org/guide.pdf"' in html


def test_an_adapter_that_fails_to_import_stops_the_start_with_a_clear_message(tmp_path: Path, monkeypatch) -> None:
    broken = EntryPoint(name="broken", value="adapters.does_not_exist:mount", group="guidebot.adapters")
    monkeypatch.setattr(server_module, "entry_points", lambda group: [broken])
    settings = _settings(tmp_path)
    with pytest.raises(AdapterError, match=r"adapter 'broken' \(adapters.does_not_exist:mount\) failed to import"):
        create_app(settings, build_guidebot(settings, embedder=object()))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# End to end: `guidebot serve` as a subprocess


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, guide_settings: Settings, guide_index):
    data_dir = seed_index(guide_settings.data_dir, tmp_path_factory.mktemp("live") / "data")
    with serve(data_dir=data_dir) as server:
        yield server


def test_serve_answers_health_readiness_and_metrics(live) -> None:
    assert live.get("/healthz")[0] == 200
    status, body = live.get("/readyz")
    assert status == 200 and json.loads(body)["status"] == "ready"
    status, body = live.get("/metrics")
    assert status == 200 and b"guidebot_http_requests_total" in body
    status, body = live.get("/")
    assert status == 200 and b"Ask the guide" in body
    records = live.log_records()
    assert any(r.get("message") == "guidebot serving" and r.get("console", "").endswith(f":{live.port}/") for r in records)
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)


def test_a_phi_question_leaves_no_trace_in_the_logs_or_the_database(live) -> None:
    status, body = live.post_json("/api/ask", {"question": PHI_QUESTION})
    assert status == 200 and body["reason"] == "phi"
    status, body = live.post_json("/api/ask", {"question": QUESTION})
    assert status == 200 and body["answered"]
    time.sleep(0.3)
    logs = live.logs()
    database = b"".join(p.read_bytes() for p in live.data_dir.glob("guidebot.sqlite3*"))
    assert database, "the question log should exist"
    for fragment in PHI_FRAGMENTS:
        assert fragment not in logs
        assert fragment.encode() not in database
    assert QUESTION not in logs, "the server must never log what a member typed"
    asked = [r for r in live.log_records() if r.get("message") == "ask"]
    assert {r["outcome"] for r in asked} >= {"abstained:phi", "answered"}
    assert all(set(r) >= {"request_id", "question_chars", "ms"} and "question" not in r for r in asked)


@pytest.fixture()
def hashing_env(hashing_settings: Settings) -> dict[str, str]:
    """The instant hashing embedder and the knowledge copy with trimmed banks (`hashing_settings`): `guidebot index`
    then takes a few seconds, not the half minute that fitting the models on the full banks takes."""
    return {"GUIDEBOT_MODEL": "hashing-256", "GUIDEBOT_KNOWLEDGE_DIR": str(hashing_settings.knowledge_dir)}


@pytest.fixture()
def hashing_server(hashing_settings: Settings, hashing_env: dict[str, str]):
    with serve(hashing_env, data_dir=hashing_settings.data_dir) as server:
        yield server


def test_running_guidebot_index_while_clients_ask_fails_no_request(hashing_server, hashing_env: dict[str, str]) -> None:
    server = hashing_server
    statuses: list[int] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            status, _ = server.post_json("/api/ask", {"question": QUESTION})
            statuses.append(status)

    workers = [threading.Thread(target=hammer) for _ in range(3)]
    for worker in workers:
        worker.start()
    builds = {(server.data_dir / "index").resolve()}
    for _ in range(2):
        subprocess.run(
            [str(GUIDEBOT), "index", "--force"], env=server_env(server.data_dir, hashing_env),
            cwd=server.data_dir.parent, check=True, capture_output=True, timeout=120,
        )
        builds.add((server.data_dir / "index").resolve())
        time.sleep(INDEX_POLL_SECONDS + 0.5)
    stop.set()
    for worker in workers:
        worker.join(30)
    assert len(builds) == 3
    assert len(statuses) > 20
    assert set(statuses) == {200}, f"failed requests during the reloads: {sorted(set(statuses))}"
    assert _reloaded(server, "manifest changed"), "the watcher should load the new index"
    _, metrics = server.get("/metrics")
    assert re.search(rb"guidebot_index_reloads_total [1-9]", metrics)


def test_sighup_reloads_the_index_at_once(live) -> None:
    live.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not _reloaded(live, "signal"):
        time.sleep(0.1)
    assert _reloaded(live, "signal")
    assert live.get("/readyz")[0] == 200


def _reloaded(server, why: str) -> bool:
    return any(r.get("message") == "index ready" and r.get("why") == why for r in server.log_records())


def test_feedback_survives_kill_9_and_a_restart(live) -> None:
    """Last of the module: it kills the shared server and starts another on the same data dir."""
    database = f"sqlite:///{live.data_dir / 'guidebot.sqlite3'}"
    cookie = {"Cookie": f"{SESSION_COOKIE}=restart-test-session-0001"}
    status, answer = live.post_json("/api/ask", {"question": QUESTION}, cookie)
    assert status == 200
    status, _ = live.post_json("/api/feedback", {"answer_id": answer["answer_id"], "value": "up"}, cookie)
    assert status == 200
    live.stop(signal.SIGKILL)
    store = SqlStore(database)
    assert [r.value for r in store.feedback_for(answer["answer_id"])] == ["up"]
    store.close()
    with serve(data_dir=live.data_dir) as second:
        status, _ = second.post_json("/api/feedback", {"answer_id": answer["answer_id"], "value": "down"}, cookie)
        assert status == 200
    store = SqlStore(database)
    records = store.feedback_for(answer["answer_id"])
    member = store.member_hash("console", "restart-test-session-0001")
    store.close()
    assert [(r.value, r.user_hash) for r in records] == [("down", member)]


def test_answer_json_keys_match_the_core_value() -> None:
    assert set(Answer(question="q").to_json()) == {
        "question", "answered", "reason", "message", "confidence", "answer_id", "lead", "passages", "suggestions"
    }
