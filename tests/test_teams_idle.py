"""Without credentials, the Teams endpoint serves the Emulator on this machine only."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.teams import mount
from bot.settings import Settings
from bot.wiring import build_guidebot
from guidebot_testing.teams import teams_config
from index.embedder import Embedder


async def test_without_an_app_id_a_public_interface_gets_an_idle_endpoint(
    guide_settings: Settings, embedder: Embedder, tmp_path: Path
):
    config = teams_config(guide_settings, host="0.0.0.0", microsoft_app_id=None, database_url=f"sqlite:///{tmp_path / 's.sqlite3'}")
    app = web.Application()
    mount(app, build_guidebot(config.settings, embedder), config.settings, config.teams)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.post(
            "/api/messages",
            json={"type": "message", "id": "1", "text": "hi", "serviceUrl": "http://127.0.0.1:9/"},
        )
        assert response.status == 503
        body = await response.json()
        assert "MICROSOFT_APP_ID" in body["message"]
