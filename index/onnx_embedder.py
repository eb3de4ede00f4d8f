"""The bundled sentence-transformers model on ONNX Runtime: no torch at serve time.

Importing torch and loading the model through sentence-transformers takes
several seconds, most of `guidebot serve`'s start-up. This embedder runs the
same network exported once to ONNX, with the model's own fast tokenizer
(`tokenizers`) and the model's pooling done in numpy, so serving imports
neither torch nor transformers.

The export is made offline from the local model directory the first time the
ONNX backend is asked for (in practice by `guidebot index`), into
`<data_dir>/onnx/<model>-<variant>-<key>/`, and reused afterwards. Making it needs torch
(already a dependency); loading it needs only `onnxruntime` and `tokenizers`.

sentence-transformers' own `backend="onnx"` needs `optimum`, whose current
release pins an older `transformers` than this project uses; exporting with
`torch.onnx` and quantising with ONNX Runtime's dynamic quantiser gives the
same kind of file without it.

Two variants (`GUIDEBOT_EMBEDDING_BACKEND`):

- `onnx`: float32 weights. Vectors match torch's to float precision (cosine
  1.000 on the guide's sentences), so retrieval and abstention are unchanged.
- `onnx-int8`: weights quantised to int8 per channel (dynamic quantisation),
  about 1.5× faster to encode; cosine ≥ 0.99 with torch on the guide's
  sentences, but one borderline dev question drops from rank 3 to 4, so it is
  opt-in. The first two layers' feed-forward output projections stay float32:
  quantising them costs the most accuracy for the least speed.

`tests/test_embedder_onnx.py` checks both against torch.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from index.priority import run_at, thread_priority

T = TypeVar("T")
EXPORT_VERSION = "1"
ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "export.json"
# Layers whose feed-forward output projection stays float32 (see the module docstring).
FLOAT_LAYERS = (0, 1)
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# A model call costs about the same per token, padding included, whatever its batch size, so a batch
# holds only texts within PAD_FRACTION (or PAD_TOKENS) of its longest one (see `plan_batches`).
PAD_FRACTION = 0.1
PAD_TOKENS = 2


class OnnxExportError(RuntimeError):
    """The model could not be exported to ONNX (not a local sentence-transformers directory, or an unsupported pooling)."""


def export_key(model: str) -> str:
    """Changes when the model's files or the export recipe change, so a stale export is never reused."""
    digest = hashlib.sha256(f"{EXPORT_VERSION}\0{Path(model).resolve()}".encode())
    root = Path(model)
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in {".json", ".safetensors", ".bin", ".txt"}:
                stat = path.stat()
                digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{int(stat.st_mtime)}\0".encode())
    return digest.hexdigest()[:12]


def export_dir_for(model: str, data_dir: Path, quantize: bool) -> Path:
    variant = "int8" if quantize else "fp32"
    return data_dir / "onnx" / f"{Path(model).name or 'model'}-{variant}-{export_key(model)}"


def _sentence_config(model_dir: Path) -> dict[str, Any]:
    """Pooling mode and sequence length, as sentence-transformers reads them."""
    pooling = {"pooling_mode_mean_tokens": True}
    modules_file = model_dir / "modules.json"
    if modules_file.exists():
        for module in json.loads(modules_file.read_text()):
            if module.get("type", "").endswith("Pooling"):
                pooling = json.loads((model_dir / module["path"] / "config.json").read_text())
    if pooling.get("pooling_mode_mean_tokens"):
        mode = "mean"
    elif pooling.get("pooling_mode_cls_token"):
        mode = "cls"
    else:
        raise OnnxExportError(f"unsupported pooling in {model_dir}: {pooling}")
    max_len = 256
    sbert = model_dir / "sentence_bert_config.json"
    if sbert.exists():
        max_len = int(json.loads(sbert.read_text()).get("max_seq_length") or max_len)
    return {"pooling": mode, "max_seq_length": max_len}


def export_onnx(model: str, out_dir: Path, quantize: bool = False) -> Path:
    """Export the transformer to ONNX (its weights quantised to int8 if asked) and publish the directory atomically."""
    model_dir = Path(model)
    if not model_dir.is_dir():
        raise OnnxExportError(f"the ONNX backend needs a local model directory, not {model!r}")
    config = _sentence_config(model_dir)

    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        network = AutoModel.from_pretrained(str(model_dir)).eval()

        class _Hidden(torch.nn.Module):
            def __init__(self, inner: torch.nn.Module) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.inner(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state

        sample = tuple(torch.ones(2, 8, dtype=torch.long) for _ in INPUTS)
        float_file = staging / ("model.float32.onnx" if quantize else ONNX_FILE)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Hidden(network),
                sample,
                str(float_file),
                dynamo=False,
                input_names=list(INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")},
                opset_version=17,
            )
        if quantize:
            _quantize(float_file, staging / ONNX_FILE)
            float_file.unlink()
        if (model_dir / TOKENIZER_FILE).exists():
            shutil.copy2(model_dir / TOKENIZER_FILE, staging / TOKENIZER_FILE)
        else:
            AutoTokenizer.from_pretrained(str(model_dir)).backend_tokenizer.save(str(staging / TOKENIZER_FILE))
        meta = {
            "model": str(model_dir),
            "export_version": EXPORT_VERSION,
            "quantized": quantize,
            "dim": int(network.config.hidden_size),
            **config,
        }
        (staging / META_FILE).write_text(json.dumps(meta, indent=2))
        if out_dir.exists() and not (out_dir / META_FILE).exists():
            shutil.rmtree(out_dir)  # a half-written export from an older version
        try:
            staging.rename(out_dir)
        except OSError:
            if not (out_dir / META_FILE).exists():
                raise
            shutil.rmtree(staging)  # another process published the same export first
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def _quantize(source: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    keep_float = [
        node.name
        for node in graph.node
        if node.op_type == "MatMul"
        and "/output/dense" in node.name
        and "attention" not in node.name
        and any(f"layer.{i}/" in node.name for i in FLOAT_LAYERS)
    ]
    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
        nodes_to_exclude=keep_float,
        extra_options={"MatMulConstBOnly": True},
    )


def plan_batches(lengths: Sequence[int], max_rows: int) -> list[list[int]]:
    """Row indices grouped into model calls, longest texts first, padding kept small.

    The network's cost is linear in the padded tokens of a call, and a call of
    one short text costs only a little more per token than a call of many, so
    a batch that pads a 12-token question to the 40 tokens of a long one costs
    three times what it needs to. Each batch holds at most `max_rows` texts,
    each within `PAD_FRACTION` (or `PAD_TOKENS`) of the batch's longest.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    width = 0
    for i in order:
        n = lengths[i]
        if not batches or len(batches[-1]) >= max_rows or width - n > max(PAD_TOKENS, PAD_FRACTION * width):
            batches.append([])
            width = n
        batches[-1].append(i)
    return batches


class OnnxEmbedder:
    """Unit-length float32 vectors from an ONNX export; same contract as the torch embedder."""

    def __init__(self, export_dir: Path, name: str, batch_size: int = 64, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        meta = json.loads((export_dir / META_FILE).read_text())
        self.name = name
        # The export's directory name holds a digest of the model's files: what an embedding cache keys on.
        self.fingerprint = f"{name}@{export_dir.name}"
        self.dim = int(meta["dim"])
        self.batch_size = batch_size
        self.workers = 1
        """Model calls run side by side (one session runs calls from several threads at once)."""
        self._pooling = meta["pooling"]
        self._tokenizer = Tokenizer.from_file(str(export_dir / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(max_length=int(meta["max_seq_length"]))
        self._tokenizer.no_padding()
        self._pad_id = self._tokenizer.token_to_id("[PAD]") or 0
        options = ort.SessionOptions()
        # Half the cores and no spin-waiting: on a small shared machine the server's other threads (the event
        # loop, the database, retrieval) need the rest, and spinning threads starve them.
        self.threads = threads or max(1, (os.cpu_count() or 2) // 2)
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(export_dir / ONNX_FILE), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._alongside = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="onnx-alongside")

    def for_bulk(self) -> OnnxEmbedder:
        """This embedder (same session) for index builds: its model calls run side by side on every core.

        Serving keeps the session's half of the cores; a build has the machine to itself. Separate
        calls on single-threaded sessions scale better on a busy machine than one call on more
        intra-op threads, whose every operator waits for its slowest thread.
        """
        bulk = copy.copy(self)
        bulk.workers = max(1, (os.cpu_count() or 1) // self.threads)
        return bulk

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_alongside(self, texts: list[str], job: Callable[[], T]) -> tuple[np.ndarray, T]:
        """`encode(texts)`, with `job` run on another thread while the model runs: onnxruntime leaves the interpreter
        free during a run, so Python work that does not need the vectors (an answer reads its question's words)
        takes the time of neither. It starts as the run does, not before: a thread that took the interpreter while
        this one still prepared the model's input would keep it until done."""
        priority = thread_priority()
        started: list[Future[T]] = []
        vectors = self._encode(texts, lambda: started.append(self._alongside.submit(run_at, priority, job)))
        return vectors, started[0].result() if started else job()

    def _encode(self, texts: list[str], on_run: Callable[[], object] | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        batches = plan_batches([len(e.ids) for e in encodings], self.batch_size)
        if self.workers > 1 and len(batches) > 1:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(batches)), thread_name_prefix="onnx-encode") as pool:
                pooled = list(pool.map(lambda rows: self._pooled(encodings, rows), batches))
        else:
            pooled = [self._pooled(encodings, rows, on_run if n == 0 else None) for n, rows in enumerate(batches)]
        for rows, vectors in zip(batches, pooled, strict=True):
            out[rows] = vectors
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return np.ascontiguousarray(out / norms, dtype=np.float32)

    def _pooled(self, encodings: list[Any], rows: list[int], on_run: Callable[[], object] | None = None) -> np.ndarray:
        """One model call: the pooled (not yet normalised) vectors of `rows`; `on_run` is called as it starts."""
        width = max(len(encodings[i].ids) for i in rows)
        ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for r, i in enumerate(rows):
            n = len(encodings[i].ids)
            ids[r, :n] = encodings[i].ids
            mask[r, :n] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        inputs = {k: v for k, v in feed.items() if k in self._inputs}
        if on_run is not None:
            on_run()
        hidden = self._session.run(None, inputs)[0]
        if self._pooling == "cls":
            return hidden[:, 0, :]
        weights = mask[..., None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)



def load_onnx_embedder(model: str, data_dir: Path, quantize: bool = False) -> OnnxEmbedder:
    """The export for this model in the data dir, made first if there is none yet.

    The name differs from the torch embedder's, so switching backends rebuilds the index
    (its vectors and abstention model come from the embedder that answers).
    """
    target = export_dir_for(model, data_dir, quantize)
    if not (target / META_FILE).exists():
        export_onnx(model, target, quantize)
    return OnnxEmbedder(target, name=f"{model}#onnx{'-int8' if quantize else ''}")
