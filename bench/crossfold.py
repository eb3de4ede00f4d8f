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
    from bot.settings import Settings
    from guidebot_testing.crossfold import measure_all, table

    print(table(measure_all(load_embedder(Settings()), {"slack": answer_chars})))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
