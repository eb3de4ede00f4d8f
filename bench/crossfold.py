"""`python -m bench.crossfold` (`make crossfold`): each question set's figures on banks that have not seen it.

The sets feed the banks, so `guidebot eval` on them measures recall; this builds
two indexes, each leaving out half of the sets, and prints a markdown table of
every set measured on the one that left it out (`guidebot_testing.crossfold`).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> int:
    from adapters.slack.render import answer_chars
    from bot.embedding import load_embedder
    from bot.evaluation import EvalReport
    from bot.settings import Settings
    from guidebot_testing.crossfold import HALVES, measure_half, table

    embedder = load_embedder(Settings())
    reports: dict[str, EvalReport] = {}
    for half in HALVES:
        reports.update(measure_half(half, embedder, {"slack": answer_chars}))
    print(table(reports))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
