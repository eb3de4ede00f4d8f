"""Shared fixtures: the real guide indexed once per session with the real bundled model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bot.engine import AnswerEngine  # noqa: E402
from bot.indexing import build_index  # noqa: E402
from bot.settings import PROJECT_ROOT, Settings  # noqa: E402
from bot.embedding import load_embedder  # noqa: E402
from index.embedder import Embedder  # noqa: E402
from index.guide_index import GuideIndex, load_index  # noqa: E402

SHARED = PROJECT_ROOT.parent / "shared"
VPMA_SENTENCES = ("The Vice President of Medical Affairs (VPMA) position represents", "The VPMA is responsible for clinical governance")
"""The guide's sentences that say what a VPMA does: either may lead "What does a VPMA do?", as the ranker weighs them."""

# CI runs the same examples every time, so a red build is reproducible; locally hypothesis explores.
from hypothesis import settings as hypothesis_settings  # noqa: E402

hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def guide_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The repo's own knowledge/, indexed into a data dir of this run's. Under pytest-xdist (`make test` runs
    two workers) the workers share one: the first builds the index, the other waits for it and loads it."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    return Settings(knowledge_dir=PROJECT_ROOT / "knowledge", data_dir=shared / "guide-data")


@pytest.fixture(scope="session")
def embedder(guide_settings: Settings) -> Embedder:
    return load_embedder(guide_settings)


@pytest.fixture(scope="session")
def guide_index(guide_settings: Settings, embedder: Embedder) -> GuideIndex:
    from filelock import FileLock

    guide_settings.data_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(guide_settings.data_dir) + ".lock"):
        build_index(guide_settings, embedder)  # the second worker finds the corpus unchanged and builds nothing
    return load_index(guide_settings.index_dir)


@pytest.fixture(scope="session")
def engine(guide_index: GuideIndex, embedder: Embedder) -> AnswerEngine:
    return AnswerEngine(guide_index, embedder)


HASHING_BANK_PER_GROUP = 24


@pytest.fixture()
def hashing_settings(tmp_path: Path) -> Settings:
    """A throwaway copy of the knowledge base with the instant hashing embedder.

    The hashing embedder's similarities mean nothing, so these tests exercise how an index is built, swapped
    and served, never what it answers: the copy keeps the first `HASHING_BANK_PER_GROUP` questions of each
    section and category of the banks, since fitting the ranker and the abstention model on all of them
    (some 3,500) is most of a build's time and these tests build dozens."""
    import shutil

    import yaml

    from knowledge.yamlfile import read_yaml

    knowledge = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", knowledge, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    for bank in (knowledge / "questions").glob("*.yaml"):
        data = read_yaml(bank)
        data["questions"] = {group: entries[:HASHING_BANK_PER_GROUP] for group, entries in data["questions"].items()}
        bank.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return Settings(knowledge_dir=knowledge, data_dir=tmp_path / "data", model="hashing-256")


@pytest.fixture()
def indexed_data_dir(guide_settings: Settings, guide_index: GuideIndex, tmp_path: Path) -> Path:
    """A fresh data dir holding a copy of the session's index of the real guide (no database yet)."""
    from guidebot_testing.servers import seed_index

    return seed_index(guide_settings.data_dir, tmp_path / "data")
