"""One grammar for Slack, Teams, the web console and the CLI: commands are short, questions are sentences."""

from __future__ import annotations

import pytest

from bot.commands import HELP_EXAMPLES, Command, parse_command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("role vpma", Command("role", "vpma")),
        ("Role: VPMA", Command("role", "VPMA")),
        ("ROLE - vpma", Command("role", "vpma")),
        ("role the vpma", Command("role", "vpma")),
        ('role "cmo payer"', Command("role", "cmo payer")),
        ("role Vice President of Medical Affairs", Command("role", "Vice President of Medical Affairs")),
        ("role medcial director", Command("role", "medcial director")),
        ("credential cpe", Command("credential", "cpe")),
        ("cred mba", Command("credential", "mba")),
        ("Credential=CPE", Command("credential", "CPE")),
        ("credential Doctor of Osteopathic Medicine", Command("credential", "Doctor of Osteopathic Medicine")),
        ("credentials mba", Command("credential", "mba")),
        ("path", Command("path")),
        ("Path.", Command("path")),
        ("roles", Command("roles")),
        ("roles?", Command("roles")),
        ("credentials", Command("credentials")),
        ("creds", Command("credentials")),
        ("help", Command("help")),
        ("help role", Command("help", "role")),
        ("  HELP!  ", Command("help")),
        # As members type names (issue 17): one word is a name, dots and connecting words go.
        ("credential DO", Command("credential", "DO")),
        ("credential do", Command("credential", "do")),
        ("credential D.O.", Command("credential", "DO")),
        ("credential M.B.A.", Command("credential", "MBA")),
        ("credential DO degree", Command("credential", "DO degree")),
        ("credential Masters in Health Administration", Command("credential", "Master of Health Administration")),
        ("credential master's degree in business administration", Command("credential", "Master of business administration")),
        ("role CMO in a hospital", Command("role", "CMO hospital")),
        ("role CMO for a payer", Command("role", "CMO payer")),
        ("role CMO at a pharmaceutical company", Command("role", "CMO pharmaceutical company")),
        ("role CMO within a biotech company", Command("role", "CMO biotech company")),
    ],
)
def test_a_keyword_and_a_short_name_is_a_command(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/guide role vpma", Command("role", "vpma")),
        ("/guide Role: VPMA", Command("role", "VPMA")),
        ("/guide path", Command("path")),
        ("/guide", Command("help")),
        ("/help", Command("help")),
        ("/role cqo", Command("role", "cqo")),
    ],
)
def test_a_slash_prefix_is_stripped(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


def test_a_keyword_alone_asks_for_the_list() -> None:
    assert parse_command("role") == Command("roles")
    assert parse_command("cred") == Command("credentials")


@pytest.mark.parametrize(
    "text",
    [
        "What role does a CMO play?",
        "role of the CQO in quality?",
        "role of the CQO in quality",
        "Role of a medical director",
        "role a CMO plays in quality",
        "role models for physicians",
        "role-play tips for interviews",
        "roleplay",
        "credentials for a CMO?",
        "credential needed to become a CMO",
        "path to cmo",
        "help me prepare for an interview",
        "Is an MBA worth it?",
        "What does a VPMA do?",
        "role a CMO has in a hospital",
        "role of a CMO for a payer",
        "credential do you need",
        "credential DO?",
        "mba",
        "",
        "   ",
        "role vpma\nand what about the cqo",
        "role " + "very " * 30 + "long name",
    ],
)
def test_a_sentence_is_a_question_not_a_command(text: str) -> None:
    assert parse_command(text) is None


@pytest.mark.parametrize(
    "text",
    ["what can you do?", "Hey, what can you do?", "how do I use this bot?", "who are you?", "What is guidebot?",
     "help me", "what topics do you cover?", "Can you help?", "what can I ask you?", "hi", "Hello there!", "hey guidebot 👋",
     "thanks!", "Thank you 🙏", "ok", "what can you help me with", "What can I use you for?", "who built you?"],
)
def test_a_question_about_the_bot_itself_or_small_talk_gets_the_help(text: str) -> None:
    """Refusing "what can you do?" or "hi" with "the guide doesn't cover that" tells a new member nothing."""
    assert parse_command(text) == Command("help")


@pytest.mark.parametrize(
    "text", ["help me become a CMO", "what do you know about the CPE?", "can you help me with my MBA choice?", "hi, what does a VPMA do?"]
)
def test_a_question_that_only_starts_like_one_about_the_bot_is_a_question(text: str) -> None:
    assert parse_command(text) is None


def test_every_help_example_parses_as_the_command_it_documents() -> None:
    assert HELP_EXAMPLES
    for command, description in HELP_EXAMPLES:
        assert description
        parsed = parse_command(command.replace("<name>", "vpma"))
        assert parsed is not None and parsed.name == command.split()[0]


# What members typed (issue 17), and the summary each must get on every platform: the CLI, Slack's
# `/guide` and Teams all call the one dispatcher (`Guidebot.respond`). Imported by those platforms' tests.
TYPED_COMMANDS = [
    ("credential DO", "Doctor of Osteopathic Medicine (DO)"),
    ("credential M.B.A.", "Master of Business Administration (MBA)"),
    ("credential Masters in Health Administration", "Master of Health Administration (MHA)"),
    ("role CMO in a hospital", "Chief Medical Officer — hospital or health system"),
    ("role CMO for a payer", "Chief Medical Officer — health insurance payer"),
    ("role CMO at a pharmaceutical company", "Chief Medical Officer — pharmaceutical or biotechnology company"),
]
UNKNOWN_NAME = ("credential CPHQ", "No credential called “CPHQ”", "Certified Physician Executive")
"""A credential the guide does not describe: "did you mean", the closest name (CPE) first, not the list's first (MD)."""
TYPED_QUESTION = "What does a VPMA do?"
