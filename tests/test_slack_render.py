"""The Block Kit renderers: pure functions, checked against the shapes and limits of Slack's reference.

`check_message` is the validator every rendered payload must pass: the block
and element types guidebot sends, with their fields as Slack's Block Kit
reference gives them (`rich_text` / `rich_text_section` / `rich_text_quote` / `text` with `style`,
`link`, `citation` with `url` / `text` / `index` / `details`,
`context_actions` / `feedback_buttons` with `positive_button` /
`negative_button`), Slack's limits, and escaping: no `mrkdwn` / `plain_text`
string and no `text` fallback holds a raw `<`, `>` or `&` we did not write as
a link or an entity, so `<!channel>` can never ping.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.slack import render
from adapters.slack.blocks import clean
from adapters.slack.text import escape, mentions_user, question_text
from bot.answer import Answer, LeadSentence, Passage, Source, Summary, SummaryPoint

PUBLIC = "https://bot.example.org"
LINK = re.compile(r"<(https?://[^|<>\s]+)\|[^<>]*>")
ENTITY = re.compile(r"&(amp|lt|gt);")
RICH_ELEMENTS = {"text", "link", "citation"}
BLOCK_TYPES = {"rich_text", "section", "context", "context_actions", "actions", "header"}


def assert_safe(text: str, where: str) -> None:
    """Escaped Slack text: only our own `<url|label>` links and `&amp;` / `&lt;` / `&gt;` entities."""
    rest = LINK.sub("", text)
    assert "<" not in rest and ">" not in rest, f"unescaped < or > in {where}: {text!r}"
    assert "&" not in ENTITY.sub("", rest), f"unescaped & in {where}: {text!r}"
    assert "<!" not in text and "<@" not in text and "<#" not in text, f"a ping in {where}: {text!r}"


def check_text_object(obj: dict[str, Any], kind: str, limit: int, where: str) -> None:
    assert obj["type"] == kind, where
    assert isinstance(obj["text"], str) and obj["text"].strip(), f"empty text in {where}"
    assert len(obj["text"]) <= limit, f"{where}: {len(obj['text'])} > {limit}"
    assert_safe(obj["text"], where)


def check_rich_elements(elements: list[dict[str, Any]], where: str) -> int:
    chars = 0
    assert elements, f"empty rich text in {where}"
    for element in elements:
        assert element["type"] in RICH_ELEMENTS, f"{where}: {element['type']} (no broadcast/user elements, ever)"
        assert isinstance(element["text"], str) and element["text"], f"{where}: empty {element['type']}"
        if element["type"] == "text":
            assert set(element) <= {"type", "text", "style"}
            assert set(element.get("style", {})) <= {"bold", "italic", "strike", "code"}
            chars += len(element["text"])
        elif element["type"] == "link":
            assert element["url"].startswith("https://") and set(element) <= {"type", "url", "text", "style"}
        else:  # citation, as the Block Kit reference's citation element
            assert element["url"].startswith("https://")
            assert isinstance(element["index"], int) and element["index"] >= 1
            assert element["text"] == f"[{element['index']}]"
            details = element["details"]
            assert details["citation_type"] == "web" and set(details) == {"citation_type", "display_name", "title", "snippet"}
            assert all(isinstance(v, str) for v in details.values())
    return chars


def check_message(message: dict[str, Any]) -> dict[str, Any]:
    """Every rule a payload from `adapters.slack.render` follows; returns it for chaining."""
    json.loads(json.dumps(message))  # plain JSON
    assert set(message) <= {"text", "blocks"}
    assert isinstance(message["text"], str) and message["text"].strip()
    assert len(message["text"]) <= render.MAX_FALLBACK_CHARS
    assert_safe(message["text"], "the text fallback")
    blocks = message.get("blocks", [])
    assert len(blocks) <= render.MAX_BLOCKS
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(ids) == len(set(ids)) and all(len(i) <= render.MAX_BLOCK_ID for i in ids)
    quoted = 0
    for i, block in enumerate(blocks):
        where = f"block {i} ({block['type']})"
        assert block["type"] in BLOCK_TYPES, where
        if block["type"] == "section":
            check_text_object(block["text"], "mrkdwn", render.MAX_SECTION_TEXT, where)
        elif block["type"] == "header":
            check_text_object(block["text"], "plain_text", render.MAX_HEADER_TEXT, where)
        elif block["type"] == "context":
            assert 1 <= len(block["elements"]) <= render.MAX_CONTEXT_ELEMENTS
            for element in block["elements"]:
                check_text_object(element, "mrkdwn", render.MAX_SECTION_TEXT, where)
        elif block["type"] == "rich_text":
            for element in block["elements"]:
                if element["type"] in ("rich_text_quote", "rich_text_section"):
                    quoted += check_rich_elements(element["elements"], where)
                elif element["type"] == "rich_text_list":
                    assert element["style"] in ("bullet", "ordered")
                    for item in element["elements"]:
                        assert item["type"] == "rich_text_section"
                        quoted += check_rich_elements(item["elements"], where)
                else:
                    raise AssertionError(f"{where}: {element['type']}")
        elif block["type"] == "context_actions":
            assert 1 <= len(block["elements"]) <= 5
            for element in block["elements"]:
                assert element["type"] == "feedback_buttons" and len(element["action_id"]) <= 255
                for key, verdict in (("positive_button", "up"), ("negative_button", "down")):
                    button = element[key]
                    check_text_object(button["text"], "plain_text", render.MAX_BUTTON_TEXT, where)
                    assert button["value"].startswith(f"{verdict}:") and len(button["value"]) <= render.MAX_BUTTON_VALUE
                    assert len(button.get("accessibility_label", "")) <= 75
        elif block["type"] == "actions":
            assert 1 <= len(block["elements"]) <= 25
            for button in block["elements"]:
                assert button["type"] == "button" and len(button["action_id"]) <= 255
                check_text_object(button["text"], "plain_text", render.MAX_BUTTON_TEXT, where)
                assert len(button["value"]) <= render.MAX_BUTTON_VALUE
    assert quoted <= render.MAX_MARKDOWN_TEXT, f"{quoted} characters quoted"
    return message


def rich_elements(message: dict[str, Any], block_prefix: str = "") -> list[dict[str, Any]]:
    out = []
    for block in message.get("blocks", []):
        if block["type"] == "rich_text" and block.get("block_id", "").startswith(block_prefix):
            for element in block["elements"]:
                items = element["elements"] if element["type"] in ("rich_text_quote", "rich_text_section") else [e for s in element["elements"] for e in s["elements"]]
                out += items
    return out


def quote_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in message.get("blocks", []) if b.get("block_id", "").startswith("guide_quote_")]


def shown(elements: list[dict[str, Any]]) -> str:
    return "".join(e["text"] for e in elements if e["type"] == "text")


def source(section: str = "Vice President of Medical Affairs", url: str | None = None) -> Source:
    return Source("cmo-career-path", "How to Become a CMO", section, section.lower().replace(" ", "-"), url)


def passage(text: str, best: str, section: str = "Vice President of Medical Affairs", chunk: str = "c1") -> Passage:
    return Passage(text=text, source=source(section), chunk_id=chunk, score=0.9, best_sentence=best)


VPMA = passage(
    "The VPMA position represents a significant increase in scope. The VPMA is responsible for clinical governance.",
    "The VPMA is responsible for clinical governance.",
)


def answer(*passages: Passage, answer_id: str = "a1b2c3d4e5f60718", lead: tuple[LeadSentence, ...] = ()) -> Answer:
    return Answer(question="What does a VPMA do?", passages=passages, lead=lead, confidence=0.8, answer_id=answer_id)


GOVERNANCE = "The VPMA is responsible for clinical governance, ensuring the alignment of medical staff with the organization's objectives."
LONG_VPMA = passage(
    "The VPMA position represents a significant increase in scope, moving from departmental management to system-wide policy. "
    f"{GOVERNANCE} This role involves external representation, such as engaging with payers to negotiate contracts. "
    "Many VPMAs also chair the credentials committee and oversee peer review across every hospital of the system.",
    GOVERNANCE,
)
MBA = passage(
    "An MBA teaches finance and operations. It is the most common business degree among CMOs, and many programs fit around clinical work.",
    "It is the most common business degree among CMOs, and many programs fit around clinical work.",
    section="Essential Educational Credentials",
    chunk="c2",
)


# ---------------------------------------------------------------- answers


def test_an_answer_quotes_the_passage_with_its_best_sentence_in_bold_and_a_numbered_citation() -> None:
    message = check_message(render.answer_message(answer(VPMA), public_url=PUBLIC))
    [quote_block] = quote_blocks(message)
    [quote] = quote_block["elements"]
    assert quote["type"] == "rich_text_quote"
    texts = [e for e in quote["elements"] if e["type"] == "text"]
    assert "".join(e["text"] for e in texts).startswith(VPMA.text)
    assert [e["text"] for e in texts if e.get("style") == {"bold": True}] == [VPMA.best_sentence]
    citation = quote["elements"][-1]
    assert citation["type"] == "citation" and citation["index"] == 1 and citation["text"] == "[1]"
    assert citation["url"] == f"{PUBLIC}/docs/cmo-career-path?chunk=c1#vice-president-of-medical-affairs"
    assert citation["details"]["snippet"] == VPMA.best_sentence


def test_the_message_opens_with_the_lead_each_sentence_closed_by_its_citation() -> None:
    lead = (LeadSentence(GOVERNANCE, 0), LeadSentence(MBA.best_sentence, 1))
    message = check_message(render.answer_message(answer(LONG_VPMA, MBA, lead=lead), public_url=PUBLIC))
    assert message["text"].startswith(escape(GOVERNANCE) + " [1] " + escape(MBA.best_sentence) + " [2]"), "the notification is the lead"
    top = message["blocks"][0]
    assert top["block_id"] == "guide_lead" and top["elements"][0]["type"] == "rich_text_section"
    elements = top["elements"][0]["elements"]
    assert [e["type"] for e in elements] == ["text", "citation", "text", "text", "citation"]
    assert elements[0]["text"].strip() == GOVERNANCE and elements[3]["text"].strip() == MBA.best_sentence
    assert [elements[1]["index"], elements[4]["index"]] == [1, 2]
    assert elements[4]["url"] == f"{PUBLIC}/docs/cmo-career-path?chunk=c2#essential-educational-credentials"


def test_the_lead_cites_the_passage_it_is_quoted_from_not_the_first() -> None:
    message = check_message(render.answer_message(answer(LONG_VPMA, MBA, lead=(LeadSentence(MBA.best_sentence, 1),)), public_url=None))
    assert message["text"].startswith(escape(MBA.best_sentence) + " [2]")
    assert {"type": "text", "text": "[2]", "style": {"bold": True}} in rich_elements(message, "guide_lead")


def test_without_a_lead_the_first_passages_best_sentence_leads() -> None:
    message = check_message(render.answer_message(answer(LONG_VPMA), public_url=PUBLIC))
    assert message["text"].startswith(escape(GOVERNANCE) + " [1]")
    assert not message["text"].startswith("From the guide")


def test_passages_under_the_lead_are_compact_around_their_best_sentence_with_a_link_to_the_whole() -> None:
    message = check_message(render.answer_message(answer(LONG_VPMA, lead=(LeadSentence(GOVERNANCE, 0),)), public_url=PUBLIC))
    [block] = quote_blocks(message)
    elements = block["elements"][0]["elements"]
    excerpt = "…" + GOVERNANCE + " This role involves external representation, such as engaging with payers to negotiate contracts.…"
    assert shown(elements).startswith(excerpt + " ") and len(excerpt) <= render.COMPACT_QUOTE_CHARS
    assert [e["text"] for e in elements if e.get("style") == {"bold": True}] == [GOVERNANCE]
    [more] = [e for e in elements if e["type"] == "link" and e["text"] == render.MORE_IN_GUIDE]
    assert more["url"] == f"{PUBLIC}/docs/cmo-career-path?chunk=c1#vice-president-of-medical-affairs", "one click to the whole passage"
    assert not [b for b in message["blocks"] if b.get("block_id") == "guide_passages"], "the links are enough"


def test_a_compact_quote_adds_the_neighbour_the_lead_has_not_said() -> None:
    opening = "The VPMA position represents a significant increase in scope, moving from departmental management to system-wide policy."
    lead = (LeadSentence(GOVERNANCE, 0), LeadSentence("This role involves external representation, such as engaging with payers to negotiate contracts.", 0))
    message = check_message(render.answer_message(answer(LONG_VPMA, lead=lead), public_url=PUBLIC))
    [block] = quote_blocks(message)
    assert shown(block["elements"][0]["elements"]).startswith(f"{opening} {GOVERNANCE}…"), "the sentence before, not the lead's second"


def test_a_short_passage_is_quoted_whole() -> None:
    message = check_message(render.answer_message(answer(MBA), public_url=None))
    [block] = quote_blocks(message)
    assert shown(block["elements"][0]["elements"]).startswith(MBA.text)
    assert not [b for b in message["blocks"] if b.get("block_id") == "guide_passages"], "nothing is hidden"


def test_without_a_public_url_a_trimmed_passage_gets_a_show_the_passages_button() -> None:
    value = answer(LONG_VPMA, MBA, lead=(LeadSentence(GOVERNANCE, 0),))
    message = check_message(render.answer_message(value, public_url=None))
    [actions] = [b for b in message["blocks"] if b.get("block_id") == "guide_passages"]
    [button] = actions["elements"]
    assert button["action_id"] == render.PASSAGES_ACTION and button["text"]["text"] == render.SHOW_PASSAGES
    assert render.parse_share_value(button["value"]) == ("What does a VPMA do?", "a1b2c3d4e5f60718")
    assert not [e for e in rich_elements(message) if e["type"] == "text" and render.MORE_IN_GUIDE in e["text"]]
    # The click is answered with every passage in full.
    full = check_message(render.passages_message(value))
    texts = [shown(b["elements"][0]["elements"]) for b in quote_blocks(full)]
    assert texts[0].startswith(LONG_VPMA.text) and texts[1].startswith(MBA.text)
    assert "[1] How to Become a CMO › Vice President of Medical Affairs" in json.dumps(full["blocks"], ensure_ascii=False)


def test_answer_chars_counts_what_a_member_sees_of_the_blocks() -> None:
    value = answer(LONG_VPMA, lead=(LeadSentence(GOVERNANCE, 0),))
    message = render.answer_message(value)
    seen = sum(len(e["text"]) for e in rich_elements(message))
    seen += len("[1] How to Become a CMO › Vice President of Medical Affairs") + len(render.SHOW_PASSAGES) + len("👍👎")
    assert render.answer_chars(value) == seen
    assert render.visible_chars({"text": "a &amp; <https://x.org|b>"}) == len("a & b"), "text alone when there are no blocks"


def test_sources_are_numbered_in_a_context_block_and_open_the_guide_page() -> None:
    second = passage("An MBA teaches finance. It is common.", "An MBA teaches finance.", section="Essential Educational Credentials", chunk="c2")
    message = check_message(render.answer_message(answer(VPMA, second, VPMA), public_url=PUBLIC))
    [sources] = [b for b in message["blocks"] if b.get("block_id") == "guide_sources"]
    texts = [e["text"] for e in sources["elements"]]
    assert texts == [
        f"<{PUBLIC}/docs/cmo-career-path?chunk=c1#vice-president-of-medical-affairs|[1] How to Become a CMO › Vice President of Medical Affairs>",
        f"<{PUBLIC}/docs/cmo-career-path?chunk=c2#essential-educational-credentials|[2] How to Become a CMO › Essential Educational Credentials>",
    ]
    assert [e["index"] for e in rich_elements(message, "guide_quote_") if e["type"] == "citation"] == [1, 2, 1]
    assert "Sources: [1] How to Become a CMO › Vice President of Medical Affairs; [2]" in message["text"]


def test_without_a_public_url_sources_are_labels_and_numbers_are_bold_text() -> None:
    message = check_message(render.answer_message(answer(VPMA), public_url=None))
    assert not [e for e in rich_elements(message) if e["type"] in ("citation", "link")]
    assert {"type": "text", "text": "[1]", "style": {"bold": True}} in rich_elements(message)
    [sources] = [b for b in message["blocks"] if b.get("block_id") == "guide_sources"]
    assert sources["elements"][0]["text"] == "[1] How to Become a CMO › Vice President of Medical Affairs"


def test_a_documents_own_url_is_shown_beside_its_source() -> None:
    sourced = Passage(VPMA.text, source(url="https://example.org/guide.pdf"), "c1", 0.9, VPMA.best_sentence)
    message = check_message(render.answer_message(answer(sourced), public_url=PUBLIC))
    [sources] = [b for b in message["blocks"] if b.get("block_id") == "guide_sources"]
    assert sources["elements"][0]["text"].endswith(" · <https://example.org/guide.pdf|original>")


def test_feedback_uses_context_actions_with_feedback_buttons_carrying_the_answer_id() -> None:
    message = check_message(render.answer_message(answer(VPMA), public_url=PUBLIC))
    [feedback] = [b for b in message["blocks"] if b["type"] == "context_actions"]
    [buttons] = feedback["elements"]
    assert buttons["type"] == "feedback_buttons" and buttons["action_id"] == render.FEEDBACK_ACTION
    assert buttons["positive_button"]["value"] == "up:a1b2c3d4e5f60718"
    assert buttons["negative_button"]["value"] == "down:a1b2c3d4e5f60718"
    assert render.parse_feedback_value(buttons["negative_button"]["value"]) == ("down", "a1b2c3d4e5f60718")


def test_simpler_styles_swap_citations_for_links_then_buttons_then_text_only() -> None:
    links = check_message(render.answer_message(answer(VPMA), public_url=PUBLIC, style="links"))
    assert [e["type"] for e in rich_elements(links)][-1] == "link"
    assert any(b["type"] == "context_actions" for b in links["blocks"])
    basic = check_message(render.answer_message(answer(VPMA), public_url=PUBLIC, style="basic"))
    [actions] = [b for b in basic["blocks"] if b["type"] == "actions"]
    assert [b["action_id"] for b in actions["elements"]] == ["guide_feedback_up", "guide_feedback_down"]
    text = check_message(render.answer_message(answer(VPMA), public_url=PUBLIC, style="text"))
    assert "blocks" not in text and f"{PUBLIC}/docs/cmo-career-path" in text["text"]


def test_injections_in_documents_and_questions_never_ping() -> None:
    hostile = "<!channel> <!here> <@U123|boss> & <https://evil.example|click> > done."
    bad = Passage(hostile, Source("d<!here>", "Title <!channel>", "Sec & <@U1>", "s", None), "c<1>", 0.5, hostile)
    message = check_message(render.answer_message(answer(bad), public_url=PUBLIC))
    assert "&lt;!channel&gt;" in message["text"]
    # In rich text the quote stays verbatim: a text element is shown, never parsed.
    assert any(e["type"] == "text" and "<!channel>" in e["text"] for e in rich_elements(message))
    abstained = Answer(question=hostile, abstained=True, reason="out_of_scope", message=hostile, suggestions=(hostile,), answer_id="x1")
    check_message(render.answer_message(abstained))


def test_a_long_passage_is_trimmed_at_a_word_with_a_more_in_the_guide_link() -> None:
    words = " ".join(f"word{i}" for i in range(3000))
    best = "The best sentence sits far down the passage."
    long = passage(f"{words} {best} {words}", best)
    message = check_message(render.answer_message(answer(long), public_url=PUBLIC))
    elements = rich_elements(message, "guide_quote_")
    quoted = shown(elements)
    assert len(quoted) <= render.COMPACT_QUOTE_CHARS + 4
    assert {"type": "text", "text": best, "style": {"bold": True}} in elements, "the best sentence stays in view"
    assert quoted.startswith("…") and "…" in quoted[1:]
    inner = [t for t in quoted.replace("…", " ").split() if t.startswith("word")]
    assert all(re.fullmatch(r"word\d+", w) and int(w[4:]) < 3000 for w in inner), "no word is cut"
    more = [e for e in elements if e["type"] == "link" and e["text"] == render.MORE_IN_GUIDE]
    assert more and more[0]["url"].startswith(f"{PUBLIC}/docs/")


def test_many_passages_stay_within_the_budget_and_the_rest_is_linked() -> None:
    text = " ".join(["A sentence of the guide about leadership."] * 100)
    many = [passage(text, "A sentence of the guide about leadership.", section=f"S{i}", chunk=f"c{i}") for i in range(20)]
    message = check_message(render.answer_message(answer(*many), public_url=PUBLIC))
    assert any(b.get("block_id") == "guide_more" for b in message["blocks"])


def test_an_abstention_says_so_and_offers_the_nearest_sections_and_help() -> None:
    abstained = Answer(
        question="Which EHR vendor is best?",
        abstained=True,
        reason="out_of_scope",
        message="The guide doesn't cover that, so I won't guess.",
        suggestions=("Guide › Developing Executive Competencies",),
        answer_id="feedc0de",
    )
    message = check_message(render.answer_message(abstained))
    body = json.dumps(message["blocks"])
    assert "The guide doesn't cover that" in body and "Nearest sections of the guide" in body
    assert "Developing Executive Competencies" in body and "/guide help" in body
    phi = check_message(render.answer_message(Answer(question="", abstained=True, reason="phi", message="No patient details, please.", answer_id="p1")))
    assert not [b for b in phi["blocks"] if b["type"] == "context_actions"], "no feedback on a privacy warning"


def test_a_summary_is_a_header_and_a_bulleted_list_of_cited_points_with_a_share_button() -> None:
    summary = Summary(
        kind="role",
        title="Vice President of Medical Affairs (VPMA)",
        intro="What the guide says:",
        points=(SummaryPoint("The VPMA leads clinical governance.", source(), "c1", "Responsibility"),),
        suggestions=("path", "role cmo"),
    )
    message = check_message(render.summary_message(summary, public_url=PUBLIC, share=render.share_value("role vpma", "")))
    assert message["blocks"][0] == {"type": "header", "block_id": "guide_title", "text": {"type": "plain_text", "text": "Vice President of Medical Affairs (VPMA)", "emoji": True}}
    [points] = [b for b in message["blocks"] if b["type"] == "rich_text"]
    assert points["elements"][0]["type"] == "rich_text_list"
    assert [e["type"] for e in rich_elements(message)] == ["text", "text", "text", "citation"]
    [share] = [b for b in message["blocks"] if b["type"] == "actions"]
    assert share["elements"][0]["action_id"] == render.SHARE_ACTION
    assert render.parse_share_value(share["elements"][0]["value"]) == ("role vpma", "")


def test_a_feedback_note_replaces_an_earlier_one() -> None:
    blocks = render.answer_message(answer(VPMA), public_url=PUBLIC)["blocks"]
    once = render.with_feedback_note(blocks, "up")
    twice = render.with_feedback_note(once, "down")
    notes = [b for b in twice if b.get("block_id") == render.FEEDBACK_NOTE_BLOCK]
    assert len(notes) == 1 and "missed" in notes[0]["elements"][0]["text"]
    check_message({"text": "x", "blocks": twice})


# ---------------------------------------------------------------- members' text in


def test_question_text_drops_the_bots_mention_and_reads_links_and_entities() -> None:
    raw = "<@UBOT> what does a <https://x.org|VPMA> do &amp; is &lt;MBA&gt; needed? cc <@U2|ann> <!here> in <#C1|general>"
    assert question_text(raw, "UBOT") == "what does a VPMA do & is <MBA> needed? cc @ann in #general"
    assert mentions_user(raw, "UBOT") and not mentions_user(raw, "U9")
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


# ---------------------------------------------------------------- properties

SPECIAL = st.sampled_from(["<!channel>", "<!here>", "<!everyone>", "<@U0123>", "<#C1|x>", "&", "&amp;", "<", ">", "|", "🩺", "👩‍⚕️", "\n", " ", "*", "_", "`", "\x00", "\u200b"])
TEXT = st.lists(st.one_of(st.text(max_size=40), SPECIAL), max_size=40).map("".join)
HUGE = st.integers(min_value=0, max_value=15000).map(lambda n: ("lorem ipsum <!channel> & " * (n // 25 + 1))[:n])
ANY_TEXT = st.one_of(TEXT, HUGE)


@st.composite
def passages(draw: st.DrawFn) -> Passage:
    text = draw(ANY_TEXT)
    if text and draw(st.booleans()):
        i = draw(st.integers(0, len(text) - 1))
        j = draw(st.integers(i, len(text)))
        best = text[i:j]
    else:
        best = draw(TEXT)
    src = Source(draw(TEXT), draw(TEXT), draw(TEXT), draw(TEXT), draw(st.one_of(st.none(), st.just("https://example.org/g.pdf"), TEXT)))
    return Passage(text, src, draw(TEXT), 0.5, best)


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    abstained = draw(st.booleans())
    quoted = tuple(draw(st.lists(passages(), max_size=14)))
    lead = draw(st.lists(st.builds(LeadSentence, ANY_TEXT, st.integers(-1, len(quoted))), max_size=2)) if quoted and not abstained else []
    return Answer(
        question=draw(TEXT),
        passages=quoted,
        lead=tuple(lead),
        abstained=abstained,
        reason=draw(st.sampled_from(["out_of_scope", "phi", "empty", "error"])) if abstained else None,
        message=draw(ANY_TEXT),
        suggestions=tuple(draw(st.lists(TEXT, max_size=12))),
        answer_id=draw(st.one_of(st.just(""), st.text("0123456789abcdef", min_size=16, max_size=16))),
    )


@st.composite
def summaries(draw: st.DrawFn) -> Summary:
    points = draw(st.lists(st.builds(SummaryPoint, ANY_TEXT, passages().map(lambda p: p.source), TEXT, TEXT), max_size=40))
    return Summary(kind="role", title=draw(ANY_TEXT), points=tuple(points), intro=draw(ANY_TEXT), suggestions=tuple(draw(st.lists(TEXT, max_size=10))))


FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(answers(), st.sampled_from([None, PUBLIC]), st.sampled_from(render.STYLES), st.one_of(st.none(), TEXT))
def test_any_answer_renders_to_valid_in_limit_unpingable_block_kit(value: Answer, public_url: str | None, style: render.Style, share: str | None) -> None:
    share_value = render.share_value(share, value.answer_id) if share is not None else None
    message = check_message(render.answer_message(value, public_url=public_url, share=share_value, style=style))
    check_message(render.passages_message(value, public_url=public_url))
    assert render.answer_chars(value) >= 0
    if value.abstained or style == "text" or not any(clean(p.text).strip() for p in value.passages):
        return  # a passage of control characters only is no passage: the member is told the guide has nothing
    lead = rich_elements(message, "guide_lead")
    assert message["blocks"][0]["block_id"] == "guide_lead" and lead[0]["type"] == "text"
    assert message["text"].startswith(escape(lead[0]["text"].strip())[:100]), "the notification starts with the lead"
    button = [b for b in message["blocks"] if b.get("block_id") == "guide_passages"]
    for block in quote_blocks(message):
        elements = block["elements"][0]["elements"]
        if any(e["type"] == "text" and e["text"] == "…" for e in elements):  # trimmed: the rest is one click away
            assert button or any(e["type"] == "link" and e["text"] == render.MORE_IN_GUIDE for e in elements) or not value.question.strip()


@FAST
@given(summaries(), st.sampled_from([None, PUBLIC]), st.sampled_from(render.STYLES))
def test_any_summary_renders_to_valid_in_limit_unpingable_block_kit(value: Summary, public_url: str | None, style: render.Style) -> None:
    check_message(render.summary_message(value, public_url=public_url, share=render.share_value("role x", ""), style=style))


@FAST
@given(ANY_TEXT)
def test_share_values_always_fit_a_button_and_read_back(question: str) -> None:
    value = render.share_value(question, "a1")
    assert len(value) <= render.MAX_BUTTON_VALUE
    parsed = render.parse_share_value(value)
    assert parsed is not None and question.startswith(parsed[0].rstrip("…")[: len(parsed[0]) // 2])


def test_a_compact_quote_that_would_only_repeat_a_two_sentence_lead_quotes_the_next_sentence_instead() -> None:
    first = "The VPMA position represents a significant increase in scope, moving from departmental management to system-wide policy."
    third = "This role involves external representation, such as engaging with payers to negotiate contracts."
    fourth = "Many VPMAs also chair the credentials committee and oversee peer review across every hospital of the system."
    vpma = passage(f"{first} {GOVERNANCE} {third} {fourth}", first)
    assert len(vpma.text) > render.COMPACT_QUOTE_CHARS
    lead = (LeadSentence(first, 0), LeadSentence(GOVERNANCE, 0))
    message = check_message(render.answer_message(answer(vpma, lead=lead)))
    quoted = shown(rich_elements(message, "guide_quote_"))
    assert third in quoted
    assert first not in quoted and GOVERNANCE not in quoted and fourth not in quoted


def test_an_answer_whose_only_passage_is_control_characters_is_told_as_nothing_found() -> None:
    message = check_message(render.answer_message(answer(passage("\x08\x07", ""))))
    assert message["blocks"][0]["block_id"] == "guide_abstain"
