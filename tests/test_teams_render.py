"""The Teams renderers are pure: any guide or member text gives payloads Teams accepts, within its limits."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.teams.cards import BUTTON_MAX, CARD_BUDGET, FEEDBACK_ACTION
from adapters.teams.citations import ABSTRACT_MAX, CITATIONS_MAX, KEYWORD_MAX, KEYWORDS_MAX, NAME_MAX
from adapters.teams.replies import (
    ALSO,
    MESSAGE_BUDGET,
    answer_activity,
    answer_chars,
    failure_activity,
    shown_text,
    summary_activity,
    thanks_activity,
    welcome_activity,
)
from adapters.teams.text import clip, escape_markdown, one_line, plain
from bot.answer import Answer, LeadSentence, Passage, Source, Summary, SummaryPoint
from bot.commands import HELP_EXAMPLES

MENTION = re.compile(r"<\s*/?\s*at\b", re.IGNORECASE)
CARD_ELEMENTS = {"AdaptiveCard", "RichTextBlock", "TextRun", "Container", "ActionSet", "Action.Submit", "Action.OpenUrl"}
HOSTILE = [
    "<at>Everyone</at>", "< AT id=\"0\">CMO</at>", "</at>", "**bold**", "_x_", "`code`", "[link](https://evil.example)",
    "<script>alert(1)</script>", "&lt;at&gt;", "# heading", "- item", "1. item", "> quote", "|table|", "\\", "\u0000",
    "\u202e", "😀", "\n\n", "  ", "[1]", "~~strike~~", "<b>x</b>", "\"}]}", "${{x}}",
]
texts = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(HOSTILE) | st.text(max_size=20), max_size=12).map("".join),
    st.text(min_size=1, max_size=40).map(lambda s: s * (4000 // len(s) + 1)),
)
short = st.one_of(st.text(max_size=120), st.lists(st.sampled_from(HOSTILE), max_size=4).map(" ".join))
sources = st.builds(
    Source,
    document_id=st.text(min_size=1, max_size=30),
    document_title=short,
    section=short,
    section_slug=st.text(max_size=30),
    url=st.none() | st.sampled_from(["https://example.org/guide", "javascript:alert(1)", "ftp://x"]),
)


@st.composite
def passages(draw: Any) -> Passage:
    text = draw(texts)
    best = draw(st.one_of(st.just(""), st.text(max_size=200), st.just(text[: len(text) // 2])))
    return Passage(text=text, source=draw(sources), chunk_id=draw(st.text(max_size=20)), score=0.5, best_sentence=best)


@st.composite
def answers(draw: Any) -> Answer:
    quoted = tuple(draw(st.lists(passages(), min_size=1, max_size=4)))
    lead = draw(st.lists(st.builds(LeadSentence, texts, st.integers(-1, len(quoted))), max_size=2))
    return Answer(question=draw(short), passages=quoted, lead=tuple(lead), answer_id=draw(st.from_regex(r"[0-9a-f]{16}", fullmatch=True)))

summaries = st.builds(
    Summary,
    kind=st.sampled_from(["role", "credential", "path", "roles", "help", "unknown"]),
    title=short,
    points=st.lists(st.builds(SummaryPoint, text=texts, source=sources, chunk_id=st.text(max_size=10), label=short), max_size=8).map(tuple),
    intro=texts,
    suggestions=st.lists(short, max_size=6).map(tuple),
)


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(k) + strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def no_mention_markup(payload: dict[str, Any]) -> None:
    for text in strings(payload):
        assert not MENTION.search(text), text


def card_elements(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [e for n in node for e in card_elements(n)]
    if not isinstance(node, dict):
        return []
    found = [node] if "type" in node and node is not None else []
    for key in ("body", "items", "inlines", "actions", "selectAction"):
        if key in node:
            found.extend(card_elements(node[key]))
    return found


def assert_valid_card(card: dict[str, Any]) -> None:
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    for element in card_elements(card):
        assert element["type"] in CARD_ELEMENTS, element["type"]
        if element["type"] == "RichTextBlock":
            assert all(i["type"] == "TextRun" and isinstance(i["text"], str) for i in element["inlines"])
        if element["type"].startswith("Action."):
            assert 0 < len(element.get("title", "x")) <= BUTTON_MAX
        if element["type"] == "Action.OpenUrl":
            assert element["url"].startswith(("https://", "http://"))
    assert len(json.dumps(card, ensure_ascii=False).encode()) <= CARD_BUDGET


@settings(max_examples=100, deadline=None)
@given(answers(), st.sampled_from([None, "https://bot.example.org"]))
def test_any_answer_gives_a_citation_message_within_teams_limits(answer: Answer, public_url: str | None) -> None:
    activity = answer_activity(answer, public_url)

    encoded = json.dumps(activity, ensure_ascii=False)
    assert len(encoded.encode()) <= MESSAGE_BUDGET
    no_mention_markup(activity)
    text = activity["text"]
    assert "<" not in text
    assert not text.startswith(">"), "the preview shows the lead, not quote markup"
    first = next((one_line(s.text) for s in answer.lead if 0 <= s.passage < len(answer.passages) and one_line(s.text)), None)
    if first is not None:
        assert text.startswith(escape_markdown(first[:60])), "the message opens with the lead"
        # Defused whole, then cut: cut first, "…<AT" would end in "<A", which is no tag to defuse.
        assert activity["summary"].startswith(plain(first)[:60])
    (entity,) = activity["entities"]
    assert (entity["type"], entity["@type"], entity["@context"], entity["@id"]) == ("https://schema.org/Message", "Message", "https://schema.org", "")
    assert "additionalType" not in entity
    claims = entity["citation"]
    assert 1 <= len(claims) <= CITATIONS_MAX
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    assert {c["position"] for c in claims} == markers
    for claim in claims:
        appearance = claim["appearance"]
        assert claim["@type"] == "Claim" and appearance["@type"] == "DigitalDocument"
        assert 0 < len(appearance["name"]) <= NAME_MAX
        assert len(appearance["abstract"]) <= ABSTRACT_MAX
        assert len(appearance.get("keywords", [])) <= KEYWORDS_MAX
        assert all(0 < len(k) <= KEYWORD_MAX for k in appearance.get("keywords", []))
        assert appearance.get("url", "https://").startswith(("https://", "http://"))
        assert appearance["encodingFormat"] == "application/vnd.microsoft.card.adaptive"
        assert_valid_card(json.loads(appearance["text"]))  # plain prose here is a 400 in Teams
    assert answer_chars(answer) == len(shown_text(text).replace("\n", ""))
    assert activity["channelData"] == {"feedbackLoopEnabled": True, "guidebot": {"answerId": answer.answer_id}}


VPMA = Source("cmo-career-path", "How to Become a CMO", "Vice President of Medical Affairs", "vice-president-of-medical-affairs")
MBA = Source("cmo-career-path", "How to Become a CMO", "Essential Educational Credentials", "essential-educational-credentials")
GOVERNANCE = "The VPMA is responsible for clinical governance, ensuring the alignment of medical staff with the organization's objectives."
LONG_VPMA = Passage(
    f"The VPMA position represents a significant increase in scope. {GOVERNANCE} This role involves external representation.",
    VPMA, "c1", 0.9, GOVERNANCE,
)
DEGREE = Passage("An MBA teaches finance and operations. It is the most common business degree.", MBA, "c2", 0.5, "An MBA teaches finance and operations.")


def test_an_answer_is_its_lead_with_citations_whose_click_opens_the_whole_passage() -> None:
    answer = Answer("What does a VPMA do?", (LONG_VPMA, DEGREE), lead=(LeadSentence(GOVERNANCE, 0),), answer_id="a1")
    activity = answer_activity(answer, "https://bot.example.org")
    assert shown_lines(activity["text"]) == [f"{escape_markdown(GOVERNANCE)} [1]", f"{ALSO} Essential Educational Credentials [2]"]
    assert activity["summary"] == f"{GOVERNANCE} [1]", "the chat list previews the lead, not markdown"
    first, second = activity["entities"][0]["citation"]
    assert first["appearance"]["abstract"] == GOVERNANCE
    card = json.loads(first["appearance"]["text"])
    runs = [i for e in card_elements(card["body"]) if e["type"] == "RichTextBlock" for i in e["inlines"]]
    assert "".join(r["text"] for r in runs).startswith(LONG_VPMA.text), "the whole passage, one click away"
    assert [r["text"] for r in runs if r.get("weight") == "Bolder"] == [GOVERNANCE]
    assert first["appearance"]["url"] == "https://bot.example.org/docs/cmo-career-path?chunk=c1#vice-president-of-medical-affairs"
    assert json.loads(second["appearance"]["text"])["body"][0]["inlines"][0]["text"] == "An MBA teaches finance and operations."
    assert answer_chars(answer) == len(f"{GOVERNANCE} [1]") + len(f"{ALSO} Essential Educational Credentials [2]")


def test_a_lead_of_two_sentences_cites_each_and_lists_no_passage_twice() -> None:
    lead = (LeadSentence(GOVERNANCE, 0), LeadSentence(DEGREE.best_sentence, 1))
    activity = answer_activity(Answer("q", (LONG_VPMA, DEGREE), lead=lead, answer_id="a1"), None)
    assert shown_lines(activity["text"]) == [f"{escape_markdown(GOVERNANCE)} [1] {DEGREE.best_sentence} [2]"]


def test_without_a_lead_the_first_passages_best_sentence_leads() -> None:
    activity = answer_activity(Answer("q", (LONG_VPMA,), answer_id="a1"), None)
    assert activity["text"] == f"{escape_markdown(GOVERNANCE)} [1]"


@settings(max_examples=60, deadline=None)
@given(summaries, st.sampled_from([None, "https://bot.example.org"]), st.sampled_from([None, "up", "down"]), short)
@example(Summary(kind="role", title="", points=(), intro="`0" * 2000), None, None, "")
def test_any_summary_gives_a_valid_adaptive_card_within_limits(
    summary: Summary, public_url: str | None, thanked: str | None, command: str
) -> None:
    activity = summary_activity(summary, public_url, feedback_id="f00d", command=command, thanked=thanked)

    (attachment,) = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert_valid_card(card)
    no_mention_markup({k: v for k, v in activity.items() if k != "attachments"} | {"card": _without_feedback_data(card)})
    if thanked:
        assert "actions" not in card
    else:
        assert [a["data"]["action"] for a in card["actions"]] == [FEEDBACK_ACTION, FEEDBACK_ACTION]


def _without_feedback_data(card: dict[str, Any]) -> dict[str, Any]:
    """The buttons carry the member's command back to us as data, never displayed: checked elsewhere."""
    return {k: v for k, v in card.items() if k != "actions"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(short, short), max_size=8), st.lists(short, max_size=4))
def test_any_welcome_is_a_valid_card(examples: list[tuple[str, str]], prompts: list[str]) -> None:
    card = welcome_activity(examples, prompts)["attachments"][0]["content"]
    assert_valid_card(card)
    no_mention_markup(card)


def shown_lines(text: str) -> list[str]:
    """The lines Teams shows for a markdown message: it joins lines a single newline separates."""
    return [" ".join(p.split("\n")) for p in text.split("\n\n") if p.strip()]


@settings(max_examples=60, deadline=None)
@given(short, st.lists(short, max_size=7), st.sampled_from(["out_of_scope", "low_confidence", "empty"]))
def test_a_refusal_shows_each_nearest_section_on_a_line_of_its_own(message: str, suggestions: list[str], reason: str) -> None:
    answer = Answer(question="q", abstained=True, reason=reason, message=message, suggestions=tuple(suggestions), answer_id="a1")
    text = answer_activity(answer, None)["text"]

    assert "\n" not in text.replace("\n\n", "")  # no line that Teams would join to the one before
    shown = shown_lines(text)
    listed = [s for s in suggestions if one_line(s)][:5]  # one of only control characters shows nothing
    bullets = [line for line in shown if line.startswith("• ")]
    assert len(bullets) == len(listed)
    if listed:
        assert shown[shown.index("Nearest sections of the guide:") + 1 :][: len(listed)] == bullets
    assert shown[-1] == "Type **help** to see what I can do."
    no_mention_markup({"text": text})


def test_the_real_refusal_reads_line_by_line() -> None:
    answer = Answer(
        question="banana bread?",
        abstained=True,
        reason="out_of_scope",
        message="The guide doesn't cover that, so I won't guess.",
        suggestions=("Understanding the Scope", "Strategic Networking", "Developing Leadership Skills"),
        answer_id="a1",
    )
    assert shown_lines(answer_activity(answer, None)["text"]) == [
        "The guide doesn't cover that, so I won't guess.",
        "Nearest sections of the guide:",
        "• Understanding the Scope",
        "• Strategic Networking",
        "• Developing Leadership Skills",
        "Type **help** to see what I can do.",
    ]


def test_one_line_replies_have_no_line_breaks_to_lose() -> None:
    for activity in (failure_activity(), thanks_activity()):
        assert "\n" not in activity["text"]


def test_the_help_card_and_the_welcome_show_each_command_in_a_block_of_its_own() -> None:
    intro = "\n".join(f"`{c}` — {d}" for c, d in HELP_EXAMPLES) + "\nAnything else is a question."
    help_card = summary_activity(Summary(kind="help", title="What I can do", intro=intro), None, feedback_id="f", command="help")
    for card in (help_card["attachments"][0]["content"], welcome_activity(HELP_EXAMPLES)["attachments"][0]["content"]):
        blocks = [e for e in card_elements(card["body"]) if e["type"] == "RichTextBlock"]
        for syntax, _ in HELP_EXAMPLES:
            (holder,) = [b for b in blocks if any(i["text"] == syntax for i in b["inlines"])]
            assert all("\n" not in i["text"] for i in holder["inlines"])


@given(texts)
def test_escaped_markdown_has_no_markup_characters_left(text: str) -> None:
    rendered = escape_markdown(text)
    assert not set(re.sub(r"&#\d+;", "", rendered)) & set("<>&*_~`[]#|\\")
    # List and heading markers only count at a line's start, as the markdown reader sees the line.
    assert all(not line.lstrip().startswith(("-", "+", "=")) for line in rendered.split("\n"))


@given(st.text(max_size=500), st.integers(min_value=0, max_value=300))
def test_clip_never_exceeds_its_limit_and_keeps_short_text(text: str, limit: int) -> None:
    clipped = clip(text, limit)
    assert len(clipped) <= limit
    if len(text) <= limit:
        assert clipped == text


def test_clip_cuts_at_a_word_boundary() -> None:
    assert clip("The Chief Medical Officer leads the medical staff", 30) == "The Chief Medical Officer…"


def test_plain_defuses_mentions_and_keeps_other_text() -> None:
    assert plain("Ask <at>Dr Smith</at> about a < 5 year plan") == "Ask \uff1cat>Dr Smith\uff1c/at> about a < 5 year plan"


def test_the_real_help_list_renders_in_the_welcome() -> None:
    card = welcome_activity(HELP_EXAMPLES)["attachments"][0]["content"]
    assert_valid_card(card)
    assert all(syntax in json.dumps(card, ensure_ascii=False) for syntax, _ in HELP_EXAMPLES)
