"""The answering engine: a question in, one `Answer` out."""

from __future__ import annotations

import numpy as np

from bot.abstain import in_scope_probability
from bot.answer import Answer, Passage, Source, new_answer_id
from bot.query import clean_question
from bot.retrieval import MERGE_MAX_CHARS, Evidence, encode_questions, search
from bot.spelling import Speller
from index.embedder import Embedder
from index.guide_index import GuideIndex
from knowledge.chunking import Chunk

EMPTY_MESSAGE = "Ask me a question about the guide, or type `help` to see what I can do."
OUT_OF_SCOPE_MESSAGE = "The guide doesn't cover that, so I won't guess."
FALLBACK_SENTENCE_THRESHOLD = 0.45


def source_of(chunk: Chunk) -> Source:
    return Source(
        document_id=chunk.document_id,
        document_title=chunk.document_title,
        section=chunk.section,
        section_slug=chunk.section_slug,
        url=chunk.url,
    )


class AnswerEngine:
    def __init__(self, index: GuideIndex, embedder: Embedder, *, top_k: int = 3, max_chars: int = 2000) -> None:
        self.index = index
        self.embedder = embedder
        self.top_k = top_k
        self.max_chars = max_chars
        self.speller = Speller.from_texts([c.text for c in index.chunks] + [c.section for c in index.chunks] + list(index.bank_texts))

    def answer(self, question: str) -> Answer:
        return self.answer_many([question])[0]

    def answer_many(self, questions: list[str]) -> list[Answer]:
        """Answer a batch with one encode call: the model is the expensive part."""
        cleaned = [clean_question(q, self.max_chars) for q in questions]
        todo = [i for i, q in enumerate(cleaned) if q]
        queries = {i: self.speller.correct(cleaned[i]) for i in todo}
        vectors = self.encode([queries[i] for i in todo]) if todo else None
        answers: list[Answer] = []
        for i, question in enumerate(cleaned):
            if not question:
                answers.append(Answer(question="", abstained=True, reason="empty", message=EMPTY_MESSAGE, answer_id=new_answer_id()))
                continue
            assert vectors is not None
            answers.append(self._answer(question, queries[i], vectors[todo.index(i)]))
        return answers

    def query(self, question: str) -> str:
        """What retrieval reads for `question`: markup stripped, typos mended."""
        return self.speller.correct(clean_question(question, self.max_chars))

    def encode(self, questions: list[str]) -> np.ndarray:
        return encode_questions(self.embedder, questions, self.index.acronyms, self.index.topic_terms)

    def evidence(self, question: str, vector: np.ndarray) -> Evidence:
        return search(self.index, question, vector)

    def confidence(self, evidence: Evidence) -> tuple[float, bool]:
        params = self.index.abstain
        if params.get("threshold") is None:
            score = evidence.features["sentence_top"]
            return score, score >= FALLBACK_SENTENCE_THRESHOLD
        probability = in_scope_probability(params, evidence.features, evidence.query_vector)
        return probability, probability >= float(params["threshold"])

    def _answer(self, question: str, query: str, vector: np.ndarray) -> Answer:
        """`question` as the member wrote it (for the answer), `query` with its typos mended (for retrieval)."""
        evidence = self.evidence(query, vector)
        confidence, in_scope = self.confidence(evidence)
        passages = self._passages(evidence)
        if not in_scope or not passages:
            return Answer(
                question=question,
                abstained=True,
                reason="out_of_scope",
                message=OUT_OF_SCOPE_MESSAGE,
                confidence=confidence,
                suggestions=tuple(dict.fromkeys(p.source.section or p.source.document_title for p in passages)),
                answer_id=new_answer_id(),
            )
        return Answer(
            question=question,
            passages=tuple(passages),
            confidence=confidence,
            answer_id=new_answer_id(),
        )

    def _passages(self, evidence: Evidence) -> list[Passage]:
        """Top passages, one per section; neighbouring chunks of one section are quoted together."""
        chunks = self.index.chunks
        groups: dict[tuple[str, str], list[int]] = {}
        for idx in evidence.order:
            key = (chunks[idx].document_id, chunks[idx].section_slug)
            if key not in groups and len(groups) >= self.top_k:
                continue
            groups.setdefault(key, []).append(idx)
        passages: list[Passage] = []
        for members in groups.values():
            lead = members[0]
            quoted = [lead]
            for idx in members[1:]:
                merged = sorted(quoted + [idx], key=lambda i: chunks[i].position)
                contiguous = all(chunks[b].position - chunks[a].position == 1 for a, b in zip(merged, merged[1:]))
                size = sum(len(chunks[i].text) for i in merged)
                if contiguous and size <= MERGE_MAX_CHARS and idx in evidence.order[: self.top_k * 3]:
                    quoted = merged
            quoted.sort(key=lambda i: chunks[i].position)
            sentences = [evidence.best_sentence[i] for i in quoted if i in evidence.best_sentence]
            best = max(sentences, key=lambda s: s[1])[0] if sentences else chunks[lead].sentences[0]
            passages.append(
                Passage(
                    text="\n\n".join(chunks[i].text for i in quoted),
                    source=source_of(chunks[lead]),
                    chunk_id=chunks[lead].id,
                    score=evidence.fused[lead],
                    best_sentence=best,
                )
            )
        return passages
