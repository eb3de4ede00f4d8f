"""Start-up wiring: the one place where settings become a running core."""

from __future__ import annotations

from bot.service import EngineHolder, Guidebot
from bot.settings import Settings
from bot.store import SqlStore
from index.embedder import Embedder


def build_guidebot(settings: Settings, embedder: Embedder | None = None) -> Guidebot:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqlStore.for_settings(settings)
    return Guidebot(settings, EngineHolder(settings, embedder), store)
