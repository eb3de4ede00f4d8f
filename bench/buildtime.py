"""`python -m bench.buildtime`: one index build in a fresh process, timed as `guidebot index` runs it.

Settings come from the environment (`GUIDEBOT_DATA_DIR`, `GUIDEBOT_KNOWLEDGE_DIR`);
prints one JSON object: the seconds `build_index` took (the model already
loaded, scikit-learn not yet imported: it loads beside the model, as in the
CLI), and how many texts were embedded rather than taken from the cache.
"""

from __future__ import annotations

import json
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> int:
    from bot.abstain import prepare_fit
    from bot.indexing import build_index
    from bot.settings import Settings
    from bot.embedding import load_embedder

    settings = Settings()
    prepare_fit()
    embedder = load_embedder(settings)
    started = time.perf_counter()
    result = build_index(settings, embedder, force=True)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "texts": result.texts, "embedded": result.embedded}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
