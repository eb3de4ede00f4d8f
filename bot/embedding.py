"""The embedding model the settings name, loaded through `index/` (which knows nothing of the settings)."""

from __future__ import annotations

from bot.settings import Settings
from index.embedder import Embedder
from index.embedder import load_embedder as _load


def load_embedder(settings: Settings) -> Embedder:
    """`GUIDEBOT_MODEL` run by `GUIDEBOT_EMBEDDING_BACKEND`, its ONNX export kept in the data dir."""
    return _load(settings.model, settings.data_dir, settings.embedding_backend)
