"""Teams citations for an answer: the schema.org `Message` entity, one `Claim` per source.

Shape and limits from Microsoft's "Enhance AI-generated bot messages" page: the
root entity is `type: https://schema.org/Message`, `@type: Message`, `@context:
https://schema.org`, `@id: ""`; each `citation` item is a `Claim` whose
`position` matches a `[n]` in the message text and whose `appearance` is a
`DigitalDocument` with `name` (≤ 80 characters, required), `abstract` (≤ 160),
`url` and up to three `keywords` of ≤ 28 characters; at most 20 citations a
message. The abstract (what hovering the number shows) is the passage's best
sentence; the whole passage goes in `text`, which must be a stringified
Adaptive Card (`encodingFormat: application/vnd.microsoft.card.adaptive`; plain
prose there is a 400): Teams opens it when the number is clicked. The answer
quotes the guide verbatim, so `additionalType:
["AIGeneratedContent"]` (the AI label) is left out: Teams shows citations
without it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from adapters.teams.text import clip, one_line, plain
from bot.answer import Answer, Passage, Source
from bot.links import source_link

NAME_MAX = 80
ABSTRACT_MAX = 160
KEYWORDS_MAX = 3
KEYWORD_MAX = 28
CITATIONS_MAX = 20
CARD_ENCODING = "application/vnd.microsoft.card.adaptive"

MESSAGE_ENTITY_TYPE = "https://schema.org/Message"


def source_url(source: Source, chunk_id: str | None, public_url: str | None) -> str | None:
    """The passage on our own docs page when a public URL is set, else the document's own https link."""
    link = source_link(public_url, source, chunk_id)
    if link:
        return link
    if source.url and source.url.lower().startswith(("https://", "http://")):
        return source.url
    return None


def _keywords(source: Source) -> list[str]:
    words: list[str] = []
    for candidate in (source.section, source.document_title):
        word = clip(plain(one_line(candidate)), KEYWORD_MAX)
        if word and word not in words:
            words.append(word)
    return words[:KEYWORDS_MAX]


def claim(position: int, passage: Passage, public_url: str | None, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """One `Claim`: the section as the title, the sentence that best answers as the abstract, and
    `detail` (an Adaptive Card of the passage) as what opens when the number is clicked."""
    source = passage.source
    name = clip(plain(one_line(source.label)), NAME_MAX) or "Guide"
    abstract = clip(plain(one_line(passage.best_sentence or passage.text)), ABSTRACT_MAX)
    appearance: dict[str, Any] = {"@type": "DigitalDocument", "name": name, "abstract": abstract}
    if detail is not None:
        appearance["text"] = json.dumps(detail, ensure_ascii=False)
        appearance["encodingFormat"] = CARD_ENCODING
    url = source_url(source, passage.chunk_id, public_url)
    if url:
        appearance["url"] = url
    keywords = _keywords(source)
    if keywords:
        appearance["keywords"] = keywords
    return {"@type": "Claim", "position": position, "appearance": appearance}


def source_numbers(answer: Answer) -> dict[tuple[str, str], int]:
    """[1], [2] … per distinct source, in passage order (as `Answer.sources` numbers them)."""
    return {(s.document_id, s.section): n for n, s in enumerate(answer.sources, start=1)}


def citation_entity(
    answer: Answer, public_url: str | None, detail: Callable[[Passage], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The root `Message` entity carrying one citation per numbered source (`detail`: its passage's card)."""
    numbers = source_numbers(answer)
    claims: dict[int, dict[str, Any]] = {}
    for passage in answer.passages:
        n = numbers[(passage.source.document_id, passage.source.section)]
        if n not in claims and n <= CITATIONS_MAX:
            claims[n] = claim(n, passage, public_url, detail(passage) if detail else None)
    return {
        "type": MESSAGE_ENTITY_TYPE,
        "@type": "Message",
        "@context": "https://schema.org",
        "@id": "",
        "citation": [claims[n] for n in sorted(claims)],
    }
