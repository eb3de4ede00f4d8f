"""The answering engine: a question in, one `Answer` out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

import numpy as np

from bot.abstain import in_scope_probability
from bot.after_the_path import asks_past_the_path, states_past_the_path
from bot.answer import Answer, LeadSentence, Passage, Source, new_answer_id
from bot.back_to_practice import asks_back_to_practice, states_back_to_practice
from bot.elsewhere import asks_elsewhere, states_elsewhere
from bot.job_boards import asks_job_boards, states_job_boards
from bot.other_functions import asks_other_function, states_other_function
from bot.other_names import asks_other_name, states_other_name
from bot.other_professions import asks_other_profession, states_other_profession
from bot.pay import asks_pay, states_pay
from bot.quantities import asks_quantity, states_quantity
from bot.query import asking_sentence, clean_question, for_retrieval
from bot.reporting_lines import asks_reporting_line, states_reporting_line
from bot.retrieval import (
    AUXILIARIES,
    MERGE_MAX_CHARS,
    Evidence,
    Wording,
    encode_questions,
    focus_odds,
    read_wording,
    retrieval_text,
    search,
)
from bot.schools import asks_named_school, states_named_school
from bot.search_firms import asks_named_firm, states_named_firm
from bot.sentences import RankedSentence
from bot.specialties import asks_specialties, states_specialties
from bot.spelling import Speller
from bot.successor import sections_in_order
from bot.trends import asks_trend, states_trend
from bot.their_organization import asks_their_organization, states_their_organization
from index import lexical
from index.embedder import Embedder
from index.guide_index import GuideIndex
from knowledge.acronyms import ABBREVIATIONS, CLINICAL_SHORTHAND, TREATMENT_SHORTHAND
from knowledge.chunking import Chunk, leans_back, only_adds
from knowledge.stopwords import ENGLISH_STOP_WORDS

EMPTY_MESSAGE = "Ask me a question about the guide, or type `help` to see what I can do."
OUT_OF_SCOPE_MESSAGE = "The guide doesn't cover that, so I won't guess."
FALLBACK_SENTENCE_THRESHOLD = 0.45
UNKNOWN_WORDS = 2
UNKNOWN_SHARE = 1 / 3
"""A message with this many words no one knows, and this share of its words, is refused (`in_scope`); no on-topic
question of any evaluation set comes near (none has two such words)."""
NEAR_TWIN = 0.95
NEAR_TWIN_MARGIN = 0.02
"""A question this close (cosine) to a bank question, and this much closer to it than to any of the other bank's,
takes that bank's side whatever the abstention model says (`in_scope`)."""
TWIN_FOCUS_LEAN = 0.5
"""How far out of scope (focus log-odds) a word a question adds to its in-scope twin may lean before the two are
no longer one question: 0.5 and 1.0 read the same on every set."""
UNSTATED_FOCUSES: tuple[tuple[Callable[[str], bool], Callable[[Iterable[str]], bool]], ...] = (
    (asks_reporting_line, states_reporting_line),
    (asks_past_the_path, states_past_the_path),
    (asks_elsewhere, states_elsewhere),
    (asks_specialties, states_specialties),
    (asks_pay, states_pay),
    (asks_other_function, states_other_function),
    (asks_quantity, states_quantity),
    (asks_trend, states_trend),
    (asks_other_profession, states_other_profession),
    (asks_named_school, states_named_school),
    (asks_their_organization, states_their_organization),
    (asks_named_firm, states_named_firm),
    (asks_job_boards, states_job_boards),
    (asks_other_name, states_other_name),
    (asks_back_to_practice, states_back_to_practice),
)
"""Focuses the documents never state whose questions the model reads as stated, for it does not read direction or
setting ("Who oversees the CMO?", "the next step after becoming a CMO", "the CMO role from country to country") and
reads the role words around a specialty, pay, a function no role of the guide owns, a figure or a trend ("are
pathologists a natural fit for the CQO role?", "CMO pay at a payer", "Which role handles HR?", "How big is the budget a
medical director manages?", "What is driving the growth of the CQO role?"), another profession ("Can a PA become a
medical director?"), a school's name ("Which is better, Wharton or Kellogg?"), a search firm's ("Which executive
search firms are the big ones?"), where openings are posted ("Which job boards list CMO openings?"), a role's other
names ("Are there alternative names for the CMO in pharma?"), going back to practice ("Can a former CMO return to
clinical practice?") or the reader's own organization ("Does your organization have a VPMA?"): each as (does a message
ask it, do these sentences state it). A question that asks one is refused while the documents do
not state it (`AnswerEngine.in_scope`)."""
_STOP_WORDS = ENGLISH_STOP_WORDS | AUXILIARIES
_STOP_STEMS = frozenset(lexical.tokenize_one(" ".join(sorted(_STOP_WORDS))))
"""Words that ask nothing ("which", "is", "or"): no word a question adds to its twin (`same_focus_as_twin`)."""
MAX_LEAD_CHARS = 450
LEAD_MARGIN = 3.0
"""A second sentence joins the lead when its log-odds are within this of the first's."""
PASSAGE_MARGIN = 1.5
"""A further section is quoted when its best sentence's log-odds are within this of the best."""
QUOTES_KEPT = 65_536
"""How many (lead chunk, section ranking) quotes an engine keeps (`AnswerEngine._quoted`): a few MB at most."""


def source_of(chunk: Chunk) -> Source:
    return Source(
        document_id=chunk.document_id,
        document_title=chunk.document_title,
        section=chunk.section,
        section_slug=chunk.section_slug,
        url=chunk.url,
    )


@dataclass(frozen=True)
class Reading:
    """What a question's words alone tell (`AnswerEngine.read`), read while the model runs."""

    wording: Wording
    unknown: tuple[int, float]
    """How many of its words no one knows, and their share (`Speller.unknown_share`)."""
    unstated: bool
    """Whether it asks a focus the documents never state (`UNSTATED_FOCUSES`)."""
    asking: Wording | None = None
    """Its asking sentence's wording, where a long message has one (`asking_sentence`)."""


Ask = tuple[str, np.ndarray]
"""A long message's asking sentence (`asking_sentence`) and that sentence's vector."""


class AnswerEngine:
    def __init__(self, index: GuideIndex, embedder: Embedder, *, top_k: int = 3, max_chars: int = 2000) -> None:
        self.index = index
        self.embedder = embedder
        self.top_k = top_k
        self.max_chars = max_chars
        self.names = frozenset(name.lower() for name in index.acronyms if len(name) > 2)
        """The guide's names a question can be about on its own ("What does a VPMA do?"); "MD" and "DO" are words too."""
        self._bank_retrieval_tokens: dict[int, frozenset[str]] = {}
        self._quotes: dict[tuple[int, tuple[int, ...]], tuple[int, ...]] = {}
        sentences = [s for c in index.chunks for s in c.sentences]
        self.unstated = tuple(asks for asks, states in UNSTATED_FOCUSES if not states(sentences))
        """The detectors of `UNSTATED_FOCUSES` whose focus no sentence of the documents states."""
        self.path = sections_in_order(
            (key, c.document_id, c.heading_trail) for key, c in zip(index.chunk_sections, index.chunks, strict=True)
        )
        """The documents' sections in order, for questions that ask what comes after or before a step (`bot.successor`)."""
        self.speller = Speller.from_texts(
            [c.text for c in index.chunks] + [c.section for c in index.chunks],
            index.bank_texts,
            keep=(*ABBREVIATIONS, *CLINICAL_SHORTHAND),
            as_typed=TREATMENT_SHORTHAND,
        )

    def answer(self, question: str) -> Answer:
        return self.answer_many([question])[0]

    def answer_many(self, questions: list[str]) -> list[Answer]:
        """Answer a batch with one encode call: the model is the expensive part."""
        cleaned = [clean_question(q, self.max_chars) for q in questions]
        todo = [i for i, q in enumerate(cleaned) if q]
        queries = {i: self.speller.correct(for_retrieval(cleaned[i])) for i in todo}
        vectors, asks, readings = self.encode_with_asks([queries[i] for i in todo]) if todo else (None, [], [])
        answers: list[Answer] = []
        for i, question in enumerate(cleaned):
            if not question:
                answers.append(Answer(question="", abstained=True, reason="empty", message=EMPTY_MESSAGE, answer_id=new_answer_id()))
                continue
            assert vectors is not None
            row = todo.index(i)
            answers.append(self._answer(question, queries[i], vectors[row], asks[row], readings[row]))
        return answers

    def encode_with_asks(self, queries: list[str]) -> tuple[np.ndarray, list[Ask | None], list[Reading]]:
        """Each query's vector, its asking sentence (`asking_sentence`) with that sentence's vector, from one call
        of the model (a long message costs one run, not two), and its `Reading`, taken while the model runs."""
        found = [asking_sentence(q, _STOP_WORDS, self.names) for q in queries]
        vectors, readings = encode_questions(
            self.embedder,
            queries + [a for a in found if a is not None],
            self.index.acronyms,
            self.index.topic_terms,
            alongside=lambda: [self.read(q, a) for q, a in zip(queries, found, strict=True)],
        )
        rest = iter(vectors[len(queries) :])
        return vectors[: len(queries)], [(a, next(rest)) if a is not None else None for a in found], readings

    def read(self, query: str, asking: str | None = None) -> Reading:
        return Reading(
            wording=read_wording(self.index, query, self.path),
            unknown=self.speller.unknown_share(query, ENGLISH_STOP_WORDS),
            unstated=any(asks(query) for asks in self.unstated),
            asking=read_wording(self.index, asking, self.path) if asking else None,
        )

    def in_scope(self, query: str, evidence: Evidence, ask: Ask | None, reading: Reading) -> tuple[float, bool]:
        """Whether to answer, and the in-scope probability that decided it: the abstention model on the whole
        message or, where the message asks in a sentence that stands on its own after context, on that sentence
        alone. Context would otherwise decide for the question: on the guide's ground ("I'm an internist
        thinking about leadership") it carried an off-topic question over the bar ("How much do CMOs make?"
        was answered at 0.97 behind such a sentence, refused at 0.08 alone), and off it ("We just merged with a
        bigger system") it dragged on-topic ones under. An asking sentence that leans on its context ("What
        should I tell her?") is not judged alone (`asking_sentence`).

        A question all but word for word one of a bank's takes that bank's side (`near_twin`), unless the words it
        adds to an in-scope twin ask what the guide leaves out (`same_focus_as_twin`).

        A message mostly of words no one knows ("lorem ipsum dolor sit amet as an aspiring CMO?") is refused
        whatever the model says: the model counts an unknown word as no evidence either way, so the few
        words it knows, the topic's, would decide alone. So is a question of whom a role reports to, of a career
        past the CMO job, of another country's physician executives, of specialties, of pay, of which executive owns
        a function the guide gives no role, of a figure it never gives, of how the field is changing, of another
        profession's way into a role, of schools or search firms by name, of where openings are posted, of a role's
        other names or of going back to practice, while the documents state none (`UNSTATED_FOCUSES`): the
        model does not read direction or setting ("Who oversees the CMO?" beside "What does the CMO oversee?")."""
        twin = near_twin(evidence.features)
        if twin and not self.same_focus_as_twin(evidence):
            twin = None
        confidence, answer = self.confidence(evidence if twin is not None or ask is None else self.evidence(*ask, reading.asking))
        if twin is not None:
            answer = twin
        unknown, share = reading.unknown
        if unknown >= UNKNOWN_WORDS and share >= UNKNOWN_SHARE:
            return confidence, False
        if answer and reading.unstated:
            return confidence, False
        return confidence, answer

    def same_focus_as_twin(self, evidence: Evidence) -> bool:
        """Whether the words a question adds to its nearest in-scope bank question ask nothing the guide leaves out.

        A cosine of 0.95 is one or two words apart, and those can be the whole question: "mmm vs mba — which one
        is cheaper + faster to finish" sits at 0.95 from the bank's "mmm vs mba?? which one" and was answered as
        its twin, though what it adds ("cheaper", "faster") leans hard toward the off-topic bank (`focus_odds`).
        Such a question is no twin; the abstention model decides it (0.22: refused)."""
        rows = evidence.bank_in_nearest[0]
        if not len(rows) or rows[0] >= len(self.index.bank_texts):
            return True
        twin = self._retrieval_tokens(int(rows[0]))
        extra = [t for t in evidence.tokens if t not in twin and t not in _STOP_STEMS]
        if not extra:
            return True
        lowest, _ = focus_odds(self.index, extra)
        return lowest > -TWIN_FOCUS_LEAN

    def _retrieval_tokens(self, row: int) -> frozenset[str]:
        """An in-scope bank question's words as retrieval reads them (names spelt out as a question's are), kept
        per row: `GuideIndex.bank_in_tokens` holds the raw text's, which differ where a name is spelt out."""
        tokens = self._bank_retrieval_tokens.get(row)
        if tokens is None:
            text = retrieval_text(self.index.bank_texts[row], self.index.acronyms)
            tokens = self._bank_retrieval_tokens[row] = frozenset(lexical.tokenize_one(text))
        return tokens

    def query(self, question: str) -> str:
        """What retrieval reads for `question`: markup, small talk and shouting gone, typos mended."""
        return self.speller.correct(for_retrieval(clean_question(question, self.max_chars)))

    def encode(self, questions: list[str]) -> np.ndarray:
        vectors, _ = encode_questions(self.embedder, questions, self.index.acronyms, self.index.topic_terms, lambda: None)
        return vectors

    def evidence(self, question: str, vector: np.ndarray, wording: Wording | None = None) -> Evidence:
        return search(self.index, question, vector, path=self.path, wording=wording)

    def confidence(self, evidence: Evidence) -> tuple[float, bool]:
        params = self.index.abstain
        if params.get("threshold") is None:
            score = evidence.features["sentence_top"]
            return score, score >= FALLBACK_SENTENCE_THRESHOLD
        probability = in_scope_probability(params, evidence.features, evidence.query_vector)
        return probability, probability >= float(params["threshold"])

    def _answer(self, question: str, query: str, vector: np.ndarray, ask: Ask | None, reading: Reading) -> Answer:
        """`question` as the member wrote it (for the answer), `query` with its typos mended (for retrieval)."""
        evidence = self.evidence(query, vector, reading.wording)
        confidence, in_scope = self.in_scope(query, evidence, ask, reading)
        composed = self.compose(evidence)
        if not in_scope or not composed.passages:
            return Answer(
                question=question,
                abstained=True,
                reason="out_of_scope",
                message=OUT_OF_SCOPE_MESSAGE,
                confidence=confidence,
                suggestions=tuple(dict.fromkeys(p.source.section or p.source.document_title for p in composed.ranked[: self.top_k])),
                answer_id=new_answer_id(),
            )
        return Answer(
            question=question,
            passages=composed.passages,
            lead=composed.lead,
            confidence=confidence,
            answer_id=new_answer_id(),
        )

    def compose(self, evidence: Evidence, depth: int | None = None) -> Composition:
        """What an answer would say, whether or not the bot then abstains: its lead and the passages shown."""
        ranked = list(evidence.ranked)
        if evidence.around is not None:
            ranked.sort(key=lambda s: self.index.chunk_sections[s.chunk] != evidence.around)
        groups = self.sections(evidence, ranked)
        quoted = {i for g in groups for i in g.chunks}
        lead = [s for s in choose_lead(ranked, self.index.chunk_sections.__getitem__) if s.chunk in quoted]
        if lead and leans_back(lead[0].text) and not only_adds(lead[0].text):
            lead = self._with_what_it_adds_to(lead[0], ranked) or lead
        shown = shown_sections(groups, lead, self.top_k)
        keys = [g.key for g in shown]
        return Composition(
            rank=lambda: tuple(self._passage(evidence, g) for g in groups[: depth or self.top_k]),
            passages=tuple(self._passage(evidence, g) for g in shown),
            lead=tuple(
                LeadSentence(s.text, keys.index(self.index.chunk_sections[s.chunk]))
                for s in lead
                if self.index.chunk_sections[s.chunk] in keys
            ),
        )

    def _with_what_it_adds_to(self, sentence: RankedSentence, ranked: list[RankedSentence]) -> list[RankedSentence] | None:
        """A lead that opens "Additionally, …" or "This involves …" is read after the sentence it leans on
        (the one before it in its paragraph), when both fit; None when there is none."""
        start, _ = self.index.sentence_rows(sentence.chunk)
        if sentence.row == start:
            return None
        row = sentence.row - 1
        text = self.index.chunks[sentence.chunk].sentences[row - start]
        if len(text) + 1 + len(sentence.text) > MAX_LEAD_CHARS:
            return None
        score = next((s.score for s in ranked if s.row == row), sentence.score)
        return [RankedSentence(row, sentence.chunk, text, score), sentence]

    def sections(self, evidence: Evidence, ranked: list[RankedSentence]) -> list[SectionGroup]:
        """Sections in answer order (by their best sentence, then the section ranking), with the chunks to quote."""
        best: dict[str, RankedSentence] = {}
        for sentence in ranked:
            best.setdefault(self.index.chunk_sections[sentence.chunk], sentence)
        members: dict[str, list[int]] = {}
        for idx in evidence.order:
            members.setdefault(self.index.chunk_sections[idx], []).append(idx)
        order = list(best) + [key for key in members if key not in best]
        groups: list[SectionGroup] = []
        for key in order:
            in_order = members.get(key, [])
            lead_chunk = best[key].chunk if key in best else in_order[0]
            quoted = (lead_chunk,) if not in_order or in_order == [lead_chunk] else self._quoted(lead_chunk, tuple(in_order))
            groups.append(SectionGroup(key, quoted, best.get(key)))
        return groups

    def _quoted(self, lead_chunk: int, in_order: tuple[int, ...]) -> tuple[int, ...]:
        """The chunks of a section to quote: its lead chunk, and each other (in ranking order) that keeps the quote
        contiguous and within `MERGE_MAX_CHARS`. Kept per lead chunk and ranking, which a small guide repeats from one
        question to the next: merging each of ten sections afresh was a tenth of an answer's time beyond the model."""
        cache_key = (lead_chunk, in_order)
        quoted = self._quotes.get(cache_key)
        if quoted is not None:
            return quoted
        chunks = self.index.chunks
        merged_so_far = [lead_chunk]
        for idx in in_order:
            if idx == lead_chunk:
                continue
            merged = sorted(merged_so_far + [idx], key=lambda i: chunks[i].position)
            contiguous = all(chunks[b].position - chunks[a].position == 1 for a, b in pairwise(merged))
            if contiguous and sum(len(chunks[i].text) for i in merged) <= MERGE_MAX_CHARS:
                merged_so_far = merged
        quoted = tuple(sorted(merged_so_far, key=lambda i: chunks[i].position))
        if len(self._quotes) < QUOTES_KEPT:
            self._quotes[cache_key] = quoted
        return quoted

    def _passage(self, evidence: Evidence, group: SectionGroup) -> Passage:
        chunks = self.index.chunks
        first = group.best.chunk if group.best else group.chunks[0]
        if group.best:
            best = group.best.text
        else:
            sentences = [evidence.best_sentence[i] for i in group.chunks if i in evidence.best_sentence]
            best = max(sentences, key=lambda s: s[1])[0] if sentences else chunks[first].sentences[0]
        return Passage(
            text="\n\n".join(chunks[i].text for i in group.chunks),
            source=source_of(chunks[first]),
            chunk_id=chunks[first].id,
            score=group.best.score if group.best else evidence.fused.get(first, 0.0),
            best_sentence=best,
        )


@dataclass(frozen=True)
class Composition:
    rank: Callable[[], tuple[Passage, ...]]
    passages: tuple[Passage, ...]
    """The passages an answer shows."""
    lead: tuple[LeadSentence, ...]

    @cached_property
    def ranked(self) -> tuple[Passage, ...]:
        """Sections in rank order as passages, before the relevance cut: built when asked for (a refusal's
        suggestions, the evaluation's Hit@k), not for every answer."""
        return self.rank()


@dataclass(frozen=True)
class SectionGroup:
    key: str
    chunks: tuple[int, ...]
    best: RankedSentence | None


def near_twin(features: dict[str, float]) -> bool | None:
    """True (answer) or False (refuse) when the question is all but one of a bank's; None otherwise.

    The abstention model is fitted with every bank question left out of its own bank, so it never sees a
    question that has a twin there, and it weighs one like any near neighbour: an interview question the
    out-of-scope bank took from a public page ("How many years have you spent in clinical management?") was
    still answered (0.58). Members ask the same questions again, in nearly the same words; the bank's label
    is the better judge of those."""
    inside, outside = features["bank_in_top"], features["bank_out_top"]
    if outside >= NEAR_TWIN and outside - inside >= NEAR_TWIN_MARGIN:
        return False
    if inside >= NEAR_TWIN and inside - outside >= NEAR_TWIN_MARGIN:
        return True
    return None


def choose_lead(ranked: list[RankedSentence], section_of: Callable[[int], str]) -> list[RankedSentence]:
    """The best sentence, then the next best of its section (or one nearly as good elsewhere) when both fit.

    A section's best sentence often introduces and the next one carries the
    substance ("The VPMA position represents …" / "The VPMA is responsible for …").
    """
    fitting = [s for s in ranked if len(s.text) <= MAX_LEAD_CHARS]
    if not fitting:
        return []
    first = fitting[0]
    for other in fitting[1:]:
        near = first.score - other.score <= LEAD_MARGIN
        if (near or section_of(other.chunk) == section_of(first.chunk)) and len(first.text) + 1 + len(other.text) <= MAX_LEAD_CHARS:
            return [first, other]
    return [first]


def shown_sections(groups: list[SectionGroup], lead: list[RankedSentence], top_k: int) -> list[SectionGroup]:
    """The sections worth quoting: those the lead cites, then others whose best sentence scores near the best."""
    top = groups[0].best.score if groups and groups[0].best else 0.0
    shown: list[SectionGroup] = []
    for n, group in enumerate(groups):
        if len(shown) == top_k:
            break
        close = group.best is not None and top - group.best.score <= PASSAGE_MARGIN
        if n == 0 or close or any(s.chunk in group.chunks for s in lead):
            shown.append(group)
    return shown
