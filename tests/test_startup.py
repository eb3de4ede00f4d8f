"""Serving with the ONNX backend starts without importing torch or scikit-learn (seconds of start-up)."""

from __future__ import annotations

import subprocess
import sys

from bot.settings import PROJECT_ROOT


def test_the_serving_path_imports_neither_torch_nor_sklearn():
    code = (
        "import sys, bot.cli, bot.server, bot.wiring, bot.service, bot.engine, bot.batching, index.onnx_embedder\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'sentence_transformers', 'sklearn') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_stop_word_copy_matches_scikit_learn():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as upstream

    from knowledge.stopwords import ENGLISH_STOP_WORDS

    assert ENGLISH_STOP_WORDS == upstream
