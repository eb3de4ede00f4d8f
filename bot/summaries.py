"""Summaries for commands (`role vpma`, `credential cpe`, `path`, `roles` …), quoted from the guide.

Every point is a verbatim sentence of a document with its source; this module
only chooses and orders sentences that `knowledge.entities` found at index
time, so when a document changes, its summaries change with it. Names are
resolved the way members type them ("VP medical affairs", "cmo payer",
"medcial director"); a name that matches nothing gets the closest names,
never an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from bot.answer import Summary, SummaryPoint
from bot.commands import HELP_EXAMPLES, Command
from bot.engine import source_of
from index.guide_index import GuideIndex
from knowledge.chunking import Chunk, leans_back
from knowledge.entities import Entities, Entity, Mention, Section, normalize_name

MAX_SUMMARY_CHARS = 2400
MAX_POINTS = 5
ACCEPT_SCORE = 80.0
TIE_MARGIN = 2.0
MAX_SUGGESTIONS = 3
SETTING_MARGIN = 5.0
# Below this, two words only share letters by chance ("nursing", "insurance").
NOISE_FLOOR = 60.0

GENERIC_WORDS = {"degree", "degrees", "credential", "credentials", "certification", "certificate", "role", "position", "job"}
"""Words that say what kind of thing a name is, not which: tried without when the name finds nothing."""
KIND_WORDS = {"role": "role", "credential": "credential", "any": "role or credential"}
KINDS = {"role": ("role", "setting"), "credential": ("credential",), "any": ("role", "setting", "credential")}


@dataclass(frozen=True)
class Resolution:
    """What a typed name refers to: one entity, or none and the closest names."""

    query: str
    entity: Entity | None
    score: float
    suggestions: tuple[str, ...] = ()
    ambiguous: bool = False

    @property
    def found(self) -> bool:
        return self.entity is not None


def summary_chars(summary: Summary) -> int:
    """The characters a chat message of this summary carries (text, labels, sources, suggestions)."""
    points = sum(len(p.text) + len(p.label) + len(p.source.label) for p in summary.points)
    return len(summary.title) + len(summary.intro) + points + sum(len(s) for s in summary.suggestions)


def _token_score(typed: str, known: str) -> float:
    """How well one typed word matches one word of a name: prefixes ("pharma") and one slip count."""
    if typed == known:
        return 100.0
    if len(typed) >= 4 and known.startswith(typed):
        return 95.0
    score = fuzz.ratio(typed, known)
    if min(len(typed), len(known)) >= 4 and OSA.distance(typed, known) == 1:
        score = max(score, 90.0)
    return score if score >= NOISE_FLOOR else 0.0


def _alias_score(typed: list[str], alias: list[str]) -> float:
    """Mostly: is every typed word in the alias? A little: how much of the alias was typed."""
    if not typed or not alias:
        return 0.0
    if sorted(typed) == sorted(alias):
        return 100.0
    typed_side = sum(max(_token_score(t, a) for a in alias) for t in typed) / len(typed)
    covered = sum(1 for a in alias if max(_token_score(t, a) for t in typed) >= ACCEPT_SCORE)
    return 0.8 * typed_side + 20.0 * covered / len(alias)


def _entity_score(typed: list[str], entity: Entity) -> float:
    aliases = [a.split() for a in entity.aliases] or [normalize_name(entity.name).split()]
    return max(_alias_score(typed, alias) for alias in aliases)


def _closeness(typed: list[str], entity: Entity) -> float:
    """How alike the typed name and the entity's closest name are, letter by letter (rapidfuzz): what
    orders suggestions that no word of the name matched ("phd" is nearer "md" than "mba")."""
    text = " ".join(typed)
    names = [*entity.aliases, normalize_name(entity.name)]
    return max((fuzz.ratio(text, n) for n in names if n), default=0.0)


def _worth_suggesting(entity: Entity, score: float, scores: dict[str, float]) -> bool:
    """A setting is suggested only when the typed words point at the setting, not just at its role."""
    if entity.kind != "setting":
        return True
    return score >= scores.get(entity.parent or "", 0.0) + SETTING_MARGIN


def resolve_in(name: str, kind: str, entities: Entities) -> Resolution:
    """`resolve` on already loaded entities."""
    typed = normalize_name(name).split()
    resolution = _resolve_words(name, typed, kind, entities)
    specific = [w for w in typed if w not in GENERIC_WORDS]
    if resolution.found or resolution.ambiguous or not specific or specific == typed:
        return resolution
    # "DO degree", "CPE certification": the name without the word for what kind of thing it is.
    without = _resolve_words(name, specific, kind, entities)
    return without if without.found or without.ambiguous else resolution


def _resolve_words(name: str, typed: list[str], kind: str, entities: Entities) -> Resolution:
    candidates = entities.of_kind(*KINDS.get(kind, KINDS["any"]))
    ranked = sorted(
        ((_entity_score(typed, e), _closeness(typed, e), n, e) for n, e in enumerate(candidates)), key=lambda r: (-r[0], -r[1], r[2])
    )
    if not ranked:
        return Resolution(name, None, 0.0)
    best_score, _, _, best = ranked[0]
    scores = {e.key: s for s, _c, _n, e in ranked}
    close = tuple(e.name for s, _c, _n, e in ranked if _worth_suggesting(e, s, scores))[:MAX_SUGGESTIONS]
    if best_score < ACCEPT_SCORE:
        return Resolution(name, None, best_score, close)
    rivals = [e for s, _c, _n, e in ranked[1:] if s >= best_score - TIE_MARGIN]
    if rivals:
        tied = tuple(e.name for e in [best, *rivals][:MAX_SUGGESTIONS])
        return Resolution(name, None, best_score, tied, ambiguous=True)
    return Resolution(name, best, best_score, close[1:])


def resolve(name: str, kind: str, index: GuideIndex) -> Resolution:
    """The role ("role" includes a role's settings), credential or either ("any") a member means."""
    return resolve_in(name, kind, Entities.from_json(index.entities))


def self_contained(sentence: str, chunk: Chunk) -> str:
    """The sentence, or when it opens by leaning on the one before ("Additionally, the CPE …", "This
    involves …") and that one comes just before it in the same paragraph, both, quoted as they stand."""
    if not leans_back(sentence):
        return sentence
    sentences = list(chunk.sentences)
    at = sentences.index(sentence) if sentence in sentences else -1
    if at <= 0:
        return sentence
    both = f"{sentences[at - 1]} {sentence}"
    return both if both in chunk.text else sentence


class _Guide:
    """The index's entities and chunks, looked up by key and id."""

    def __init__(self, index: GuideIndex) -> None:
        self.entities = Entities.from_json(index.entities)
        self.chunks: dict[str, Chunk] = {c.id: c for c in index.chunks}

    def point(self, mention: Mention, label: str = "") -> SummaryPoint | None:
        chunk = self.chunks.get(mention.chunk_id)
        if chunk is None:
            return None
        return SummaryPoint(text=self_contained(mention.sentence, chunk), source=source_of(chunk), chunk_id=chunk.id, label=label)

    def points(self, mentions: Iterable[Mention], limit: int = MAX_POINTS) -> tuple[SummaryPoint, ...]:
        unique = list(dict.fromkeys(mentions))
        made = [p for p in (self.point(m) for m in unique) if p is not None]
        # A sentence quoted with the one after it ("… MMM. Additionally, the CPE …") stands in for its own point.
        kept: list[SummaryPoint] = []
        for point in made:
            wider = next((q for q in made if q.chunk_id == point.chunk_id and len(q.text) > len(point.text) and point.text in q.text), point)
            if wider not in kept:
                kept.append(wider)
        return tuple(kept[:limit])

    def sentences(self, section: Section) -> list[Mention]:
        return [Mention(cid, s) for cid in section.chunk_ids if cid in self.chunks for s in self.chunks[cid].sentences]

    def section_of(self, mention: Mention) -> Section | None:
        return next((s for s in self.entities.sections if mention.chunk_id in s.chunk_ids), None)

    def command_name(self, entity: Entity) -> str:
        """The shortest alias that finds this entity and nothing else: what suggestions show."""
        by_length = sorted(enumerate(entity.aliases), key=lambda a: (len(a[1].split()), a[0]))
        for _n, alias in by_length:
            found = resolve_in(alias, "any", self.entities).entity
            if found is not None and found.key == entity.key:
                return alias
        return entity.name.lower()


def _fit(summary: Summary) -> Summary:
    """Drop trailing points (whole sentences, never part of one) until the summary fits one message."""
    points = list(summary.points)
    while len(points) > 1 and summary_chars(_with(summary, points)) > MAX_SUMMARY_CHARS:
        points.pop()
    return _with(summary, points)


def _with(summary: Summary, points: list[SummaryPoint]) -> Summary:
    return Summary(summary.kind, summary.title, tuple(points), summary.intro, summary.suggestions)


def _fit_list(summary: Summary, command: str) -> Summary:
    """A list too long for one message names the rest in its suggestions instead of quoting them."""
    points = list(summary.points)
    dropped: list[str] = []
    trimmed = summary
    while len(points) > 1 and summary_chars(trimmed) > MAX_SUMMARY_CHARS:
        dropped.insert(0, points.pop().label)
        trimmed = Summary(summary.kind, summary.title, tuple(points), summary.intro, tuple(f"{command} {d}" for d in dropped))
    return trimmed


def _unknown(name: str, kind: str, resolution: Resolution) -> Summary:
    word = KIND_WORDS.get(kind, "role or credential")
    if resolution.ambiguous:
        title = f"More than one {word} matches “{name}”"
    else:
        title = f"No {word} called “{name}”"
    names = resolution.suggestions
    if not names:
        intro = f"The guide's index has no {word}s yet: ask staff to run `guidebot index`."
    elif len(names) == 1:
        intro = f"Did you mean {names[0]}?"
    else:
        intro = f"Did you mean {', '.join(names[:-1])} or {names[-1]}?"
    return Summary(kind="unknown", title=title, intro=intro, suggestions=names)


def _role(entity: Entity, guide: _Guide) -> Summary:
    """What the role is (its defining sentences), what it does (its own section), how it leads on (the stage it belongs to)."""
    ents = guide.entities
    settings = [e for e in ents.entities if e.kind == "setting" and e.parent == entity.key]
    setting_sentences = {m for e in settings for m in e.defining}
    chosen: list[Mention] = list(entity.defining)
    own = ents.section(entity.section)
    if own is not None:
        chosen += [m for m in guide.sentences(own) if m not in setting_sentences]
        parent = ents.section(own.parent)
        if parent is not None:
            chosen.append(parent.lead)
    chosen += [m for m in entity.mentions if m not in setting_sentences]
    suggestions = tuple(f"role {guide.command_name(s)}" for s in settings)
    intro = f"Settings: {'; '.join(s.setting or s.name for s in settings)}." if settings else ""
    summary = Summary(kind="role", title=entity.display_name, points=guide.points(chosen), intro=intro, suggestions=suggestions)
    return _fit(summary)


def _setting(entity: Entity, guide: _Guide) -> Summary:
    """A role in one setting: the setting's own sentences, then what the role is anywhere."""
    parent = guide.entities.by_key(entity.parent or "")
    chosen = list(entity.defining) + (list(parent.defining[:1]) if parent else [])
    suggestions = (f"role {guide.command_name(parent)}",) if parent else ()
    return _fit(Summary(kind="role", title=entity.name, points=guide.points(chosen), suggestions=suggestions))


def _credential(entity: Entity, guide: _Guide) -> Summary:
    """What it is (its definition), then why it matters: the lead of its section and the section's general sentences."""
    ents = guide.entities
    chosen: list[Mention] = list(entity.defining) + list(entity.mentions)
    section = guide.section_of(entity.defining[0]) if entity.defining else None
    if section is not None:
        named = {m for e in ents.entities for m in (*e.defining, *e.mentions)}
        general = [m for m in guide.sentences(section) if m not in named]
        chosen += [section.lead, *general]
    return _fit(Summary(kind="credential", title=entity.display_name, points=guide.points(chosen, limit=4)))


def _listing(kind: str, guide: _Guide) -> Summary:
    ents = guide.entities
    command = "role" if kind == "role" else "credential"
    entities = ents.of_kind(kind)
    points = [
        p
        for p in (guide.point(e.defining[0], label=e.display_name) for e in entities if e.defining)
        if p is not None
    ]
    intro = f"Type `{command} <name>` for a summary, e.g. `{command} {guide.command_name(entities[0])}`." if entities else ""
    title = "Roles in the guide" if kind == "role" else "Credentials in the guide"
    summary = Summary(kind="roles" if kind == "role" else "credentials", title=title, points=tuple(points), intro=intro)
    return _fit_list(summary, command)


def _document_for_path(argument: str, guide: _Guide) -> str | None:
    ents = guide.entities
    if argument:
        found = resolve_in(argument, "role", ents).entity
        if found is not None:
            leads_there = [d.document_id for d in ents.documents if d.destination == found.key]
            return leads_there[0] if leads_there else found.document_id
    with_stages = [(len(ents.stages(d.document_id)), -n, d.document_id) for n, d in enumerate(ents.documents)]
    return max(with_stages)[2] if with_stages else None


def _path(argument: str, guide: _Guide) -> Summary:
    """One point per stage, in the document's order, each the stage's lead sentence."""
    ents = guide.entities
    document_id = _document_for_path(argument, guide)
    document = next((d for d in ents.documents if d.document_id == document_id), None)
    stages = ents.stages(document_id) if document_id else []
    if document is None or not stages:
        return Summary(kind="path", title="Career path", intro="The guide's index has no career path yet: ask staff to run `guidebot index`.")
    destination = ents.by_key(document.destination or "")
    title = f"The path to {destination.name}" if destination else document.title
    points = [p for p in (guide.point(s.lead, label=s.heading) for s in stages) if p is not None]
    roles = [ents.by_key(key) for s in stages for key in s.names]
    suggestions = tuple(f"role {guide.command_name(r)}" for r in roles if r is not None)
    return _fit(Summary(kind="path", title=title, points=tuple(points), suggestions=suggestions))


def _help(topic: str, guide: _Guide) -> Summary:
    examples = [(c, d) for c, d in HELP_EXAMPLES if not topic or c.split()[0] in (topic, f"{topic}s")] or HELP_EXAMPLES
    intro = "\n".join(f"`{command}` — {description}" for command, description in examples)
    intro += "\nAnything else is a question: I answer with quotes from the guide."
    ents = guide.entities
    tries: list[str] = []
    roles = ents.of_kind("role")
    if roles:
        tries.append(f"role {guide.command_name(roles[-1])}")
    settings = ents.of_kind("setting")
    if settings:
        tries.append(f"role {guide.command_name(settings[0])}")
    credentials = ents.of_kind("credential")
    if credentials:
        tries.append(f"credential {guide.command_name(credentials[-1])}")
    tries.append("path")
    return Summary(kind="help", title="What I can do", intro=intro, suggestions=tuple(tries))


def summarize(command: Command, index: GuideIndex) -> Summary:
    """The summary a command asks for; unknown names get the closest names, never an error."""
    guide = _Guide(index)
    if command.name == "help":
        return _help(command.argument, guide)
    if command.name == "path":
        return _path(command.argument, guide)
    if command.name in ("roles", "credentials") or not command.argument.strip():
        return _listing("credential" if command.name.startswith("credential") else "role", guide)
    resolution = resolve_in(command.argument, command.name, guide.entities)
    entity = resolution.entity
    if entity is None and not resolution.ambiguous:
        entity = resolve_in(command.argument, "any", guide.entities).entity
    if entity is None:
        return _unknown(command.argument, command.name, resolution)
    if entity.kind == "credential":
        return _credential(entity, guide)
    if entity.kind == "setting":
        return _setting(entity, guide)
    return _role(entity, guide)


def _article(name: str) -> str:
    return "an" if name[:1].lower() in "aeiou" else "a"


def suggested_prompts(index: GuideIndex, limit: int = 4) -> list[str]:
    """Questions to offer a member before they type: one per role the index knows, then its settings."""
    ents = Entities.from_json(index.entities)
    prompts = [f"What does {_article(e.name)} {e.name} do?" for e in ents.of_kind("role")]
    for setting in ents.of_kind("setting"):
        parent = ents.by_key(setting.parent or "")
        if parent is not None and setting.setting:
            prompts.append(f"What does {_article(parent.name)} {parent.name} do at {_article(setting.setting)} {setting.setting}?")
    return prompts[: max(0, limit)]
