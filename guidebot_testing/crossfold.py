"""Answer quality on question sets the banks have not seen, by halves (`make crossfold`, and the floors of
`tests/test_quality.py`).

The question sets in `tests/data` and `../shared/eval` feed the banks
(`knowledge/questions/cmo-career-path-asked.yaml` and the out-of-scope bank's
`asked_in_the_question_sets`), so `guidebot eval` on them measures recall, not
generalisation. This splits the sets in two halves (each with paraphrases and
real-page wording, a set and its typo'd copy on the same side), builds an index
whose banks leave out one half's questions, evaluates that half, and does the
same the other way round: every set is measured once as if it had never been
seen. The sets live beside the checkout (`tests/data`, `../shared/eval`): this runs from one.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from bot.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from bot.evaluation import EvalReport, MessageSize
    from index.embedder import Embedder

SHARED_EVAL = PROJECT_ROOT.parent / "shared" / "eval"
DATA = PROJECT_ROOT / "tests" / "data"
HALVES = (
    ("dev", "heldout", "typos", "fresh_a", "fresh_c", "fresh_e", "fresh_g", "fresh_i", "dev_real", "real_g", "real_i", "web_real", "web_s"),
    ("heldout2", "heldout_para", "fresh_b", "fresh_d", "fresh_f", "fresh_h", "fresh_j", "heldout_real", "real_h", "real_j", "fresh_k", "real_k", "web_o", "web_h"),
)
REAL = {"dev_real", "heldout_real", "web_real", "real_g", "real_h", "real_i", "real_j", "real_k", "web_o", "web_h", "web_s"}
FIGURES = ("hit_at_1", "hit_at_3", "lead_hit", "answered", "oos_refused")


def set_paths(name: str) -> tuple[Path, Path]:
    base = SHARED_EVAL if name in ("dev", "dev_real") else DATA
    return base / f"{name}.jsonl", base / f"{name}_oos.jsonl"


def _key(text: object) -> str:
    return " ".join(str(text).split()).lower()


def without_questions(knowledge: Path, held_out: set[str]) -> int:
    """Drop every bank entry whose question is one of `held_out` (normalised text); how many were dropped."""
    dropped = 0
    for path in (knowledge / "questions").glob("*.y*ml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for group, entries in (data.get("questions") or {}).items():
            kept = [e for e in entries or [] if _key(e.get("q", "") if isinstance(e, dict) else e) not in held_out]
            dropped += len(entries or []) - len(kept)
            data["questions"][group] = kept
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return dropped


def measure_half(names: tuple[str, ...], embedder: Embedder, sizes: dict[str, MessageSize], cache_from: Path | None = None) -> dict[str, EvalReport]:
    """Each of `names` evaluated on an index whose banks leave out all of their questions.
    `cache_from`: a data dir whose embedding cache the build may start from (its texts are mostly the same)."""
    from bot.engine import AnswerEngine
    from bot.evaluation import evaluate, read_jsonl
    from bot.indexing import build_index
    from bot.settings import Settings
    from index.guide_index import load_index

    rows = {name: (read_jsonl(on), read_jsonl(off)) for name, (on, off) in ((n, set_paths(n)) for n in names)}
    held_out = {_key(r["q"]) for on, off in rows.values() for r in on + off}
    with tempfile.TemporaryDirectory(prefix="guidebot-crossfold-") as tmp:
        knowledge = Path(tmp) / "knowledge"
        shutil.copytree(PROJECT_ROOT / "knowledge", knowledge, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        dropped = without_questions(knowledge, held_out)
        settings = Settings(knowledge_dir=knowledge, data_dir=Path(tmp) / "data")
        cache = (cache_from or Settings().data_dir) / "embeddings"
        if cache.exists():
            shutil.copytree(cache, settings.data_dir / "embeddings")
        build_index(settings, embedder)
        engine = AnswerEngine(load_index(settings.index_dir), embedder)
        print(f"left {dropped} bank questions out for {', '.join(names)}", file=sys.stderr)
        return {name: evaluate(engine, on, off, sizes) for name, (on, off) in rows.items()}


def measure_all(embedder: Embedder, sizes: dict[str, MessageSize], cache_from: Path | None = None) -> dict[str, EvalReport]:
    """Every set of `HALVES`, each measured on the build that left its half out."""
    reports: dict[str, EvalReport] = {}
    for half in HALVES:
        reports.update(measure_half(half, embedder, sizes, cache_from))
    return reports


def table(reports: dict[str, EvalReport]) -> str:
    lines = ["| set | Hit@1 | Hit@3 | lead hit | answered | refused | passages | Slack chars (median) |", "|---|---|---|---|---|---|---|---|"]
    for name, report in reports.items():
        figures = " | ".join(f"{getattr(report, f):.3f}" for f in FIGURES)
        lines.append(f"| {name} | {figures} | {report.mean_passages:.2f} | {report.median_message_chars.get('slack', 0):.0f} |")
    for label, chosen in (("mean, all sets", list(reports)), ("mean, real wording", [n for n in reports if n in REAL])):
        means = [statistics.fmean(getattr(reports[n], f) for n in chosen) for f in FIGURES]
        lines.append(f"| **{label}** | " + " | ".join(f"**{m:.3f}**" for m in means) + " | | |")
    return "\n".join(lines)
