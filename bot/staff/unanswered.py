"""The dashboard's Unanswered page: the period's unanswered questions, grouped as `guidebot report` groups
them, each group with the guide section nearest to it (where its answer would be written).

The counting is the store's (GROUP BY on the question text, `Staff.unanswered_wordings`), so a year of
questions is never read row by row. Only the `GROUPED_WORDINGS` most asked distinct wordings are embedded
and grouped (`bot.report.group_counted`, the report's own grouping), and only the `SHOWN_GROUPS` largest
groups are looked up in the guide: both bound the work of one request however much was asked. The
page says when the cap left wordings out. The wordings' vectors and the groups' sections are kept in
memory per text (`bot.staff.memo`), so a page opened again embeds only wordings it has not met.

A refusal quotes no passage, so the question log holds no section for it: the nearest section is the
one retrieval ranks first for the group's most asked wording (what the bot would have quoted, had it
answered), found by the live engine. Without an index, grouping falls back to fuzzy matching (as
`guidebot report --no-embed`) and groups have no section.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from bot.answer import Source
from bot.links import doc_path
from bot.report import NOT_GUIDE_GAPS, Grouping, group_counted
from bot.staff.memo import memo_embed, memo_for
from bot.store import Staff
from index.embedder import for_bulk
from index.persist import IndexMissingError

if TYPE_CHECKING:
    from bot.engine import AnswerEngine

log = logging.getLogger(__name__)

GROUPED_WORDINGS = 300
"""The most distinct wordings (the most asked first) embedded and grouped per request: about a second of
the embedding model the first time (then kept, `bot.staff.memo`), on every core, as an index build embeds
(`index.embedder.for_bulk`): it happens once per server, and on the serving half of two cores the page's
first opening took just over a second. Wordings asked less often than the 300th are counted, not grouped."""
SHOWN_GROUPS = 40
"""The largest groups shown, each looked up in the guide; the rest are counted."""


@dataclass(frozen=True)
class UnansweredGroup:
    """Unanswered questions that ask the same thing: the most asked wording first."""

    id: str
    representative: str
    count: int
    wordings: tuple[str, ...]
    section: Source | None

    def to_json(self, days: int) -> dict[str, Any]:
        section = None
        if self.section is not None:
            section = {
                "document_id": self.section.document_id,
                "document": self.section.document_title,
                "section": self.section.section,
                "anchor": self.section.section_slug,
                "guide_link": doc_path(self.section),
                "write_link": write_link(self.section),
            }
        return {
            "id": self.id,
            "representative": self.representative,
            "count": self.count,
            "wordings": list(self.wordings),
            "section": section,
            "link": group_link(days, self.id),
        }


@dataclass(frozen=True)
class Unanswered:
    days: int
    first_day: str
    last_day: str
    unanswered: int
    """Unanswered questions in the period (refusals for patient details and empty messages left out)."""
    wordings: int
    """Distinct texts among them."""
    grouped: int
    """Distinct texts grouped: at most `GROUPED_WORDINGS`, the most asked."""
    grouping: Grouping
    groups: tuple[UnansweredGroup, ...]
    groups_not_shown: int

    @property
    def capped(self) -> bool:
        return self.grouped < self.wordings

    def to_json(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "from": self.first_day,
            "to": self.last_day,
            "unanswered": self.unanswered,
            "wordings": self.wordings,
            "grouped": self.grouped,
            "cap": GROUPED_WORDINGS,
            "capped": self.capped,
            "grouping": self.grouping,
            "groups": [group.to_json(self.days) for group in self.groups],
            "groups_not_shown": self.groups_not_shown,
        }


def write_link(section: Source) -> str:
    """The Guide page's editor at this section: where staff write the missing answer."""
    return f"/staff/guide?edit={quote(section.document_id, safe='')}#{quote(section.section_slug, safe='')}"


def group_link(days: int, group_id: str) -> str:
    return f"/staff/unanswered?days={days}#group-{group_id}"


def group_id(representative: str) -> str:
    """A short id for the group a wording leads, the same on every load while it leads it."""
    return hashlib.sha256(" ".join(representative.casefold().split()).encode()).hexdigest()[:12]


def build_unanswered(store: Staff, days: int, now: datetime, engine: Callable[[], AnswerEngine] | None = None) -> Unanswered:
    last = now.date()
    first = last - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=now.tzinfo)
    total, distinct, counted = store.unanswered_wordings(since, NOT_GUIDE_GAPS, GROUPED_WORDINGS)
    live = _live(engine)
    if live is None:
        groups = group_counted(counted)
        shown = groups[:SHOWN_GROUPS]
        sections: list[Source | None] = [None] * len(shown)
    else:
        memo = memo_for(live)
        groups = group_counted(counted, memo_embed(memo, for_bulk(live.embedder).encode))
        shown = groups[:SHOWN_GROUPS]
        sections = memo.sections.get_many([g.representative for g in shown], lambda missing: nearest_sections(live, missing))
    return Unanswered(
        days=days,
        first_day=first.isoformat(),
        last_day=last.isoformat(),
        unanswered=total,
        wordings=distinct,
        grouped=len(counted),
        grouping="embeddings" if live is not None else "fuzzy",
        groups=tuple(
            UnansweredGroup(group_id(g.representative), g.representative, g.count, g.examples, section)
            for g, section in zip(shown, sections, strict=True)
        ),
        groups_not_shown=len(groups) - len(shown),
    )


def _live(engine: Callable[[], AnswerEngine] | None) -> AnswerEngine | None:
    if engine is None:
        return None
    try:
        return engine()
    except IndexMissingError as error:
        log.warning("unanswered: %s; grouping by fuzzy matching, without sections", error)
        return None


def nearest_sections(engine: AnswerEngine, texts: Sequence[str]) -> list[Source | None]:
    """The section retrieval ranks first for each text (one encode call for all of them)."""
    queries = [engine.query(text) for text in texts]
    wanted = [i for i, query in enumerate(queries) if query]
    vectors = engine.encode([queries[i] for i in wanted]) if wanted else None
    found: list[Source | None] = [None] * len(texts)
    for row, i in enumerate(wanted):
        assert vectors is not None
        ranked = engine.compose(engine.evidence(queries[i], vectors[row]), depth=1).ranked
        found[i] = ranked[0].source if ranked else None
    return found
