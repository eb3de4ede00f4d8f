"""Which section a question of what comes after or before a step asks for (`bot.successor`): the one beside the named
step's in its document, past the sections that hold it."""

from __future__ import annotations

import pytest

from bot.successor import section_asked_around, sections_in_order

PATH = sections_in_order(
    [
        ("guide#experience", "guide", ("Gaining Deep Clinical and Operational Expertise",)),
        ("guide#transitioning", "guide", ("Transitioning to Formal Administrative Leadership",)),
        ("guide#medical-director", "guide", ("Transitioning to Formal Administrative Leadership", "Medical Director Roles")),
        ("guide#medical-director", "guide", ("Transitioning to Formal Administrative Leadership", "Medical Director Roles")),
        ("guide#vpma", "guide", ("Transitioning to Formal Administrative Leadership", "Vice President of Medical Affairs")),
        ("guide#cqo", "guide", ("Transitioning to Formal Administrative Leadership", "Chief Quality Officer")),
        ("guide#networking", "guide", ("Strategic Networking and C-Suite Recruitment",)),
        ("faq#pay", "faq", ("Pay and Benefits",)),
    ]
)


@pytest.mark.parametrize(
    ("question", "section"),
    [
        ("what's the next step after being a medical director?", "guide#vpma"),
        ("after med dir, next role?", "guide#vpma"),
        ("what role comes before Vice President of Medical Affairs?", "guide#medical-director"),
        ("what should come before the medical director job?", "guide#experience"),
        ("what comes after the Vice President of Medical Affairs?", "guide#cqo"),
        ("what comes after the chief quality officer?", "guide#networking"),
        ("med dir for 4 yrs, I own the dept operating budget. whats next up the ladder?", "guide#vpma"),
        ("I run a service line as medical director. What's the logical next rung?", "guide#vpma"),
        ("chaired our quality improvement committee, next step toward chief medical officer?", None),
        ("I'm a medical director and the Vice President of Medical Affairs is leaving. What's next for me?", None),
        ("anything after strategic networking and c-suite recruitment?", None),
        ("I have my first CMO interview, after five years as a medical director. How should I prepare?", None),
        ("Is there a direct path to CMO after residency?", None),
        ("What does a medical director do?", None),
    ],
)
def test_the_section_beside_the_named_step(question: str, section: str | None):
    assert section_asked_around(question, PATH) == section


def test_the_sections_come_once_each_in_their_documents_order():
    assert [s.key for s in PATH] == [
        "guide#experience", "guide#transitioning", "guide#medical-director", "guide#vpma", "guide#cqo", "guide#networking", "faq#pay",
    ]
