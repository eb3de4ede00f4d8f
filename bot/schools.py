"""Questions that ask for particular schools or programs by name, or for their rankings ("Which specific
physician-focused MBA programs are considered the best …? Actual school names would be super helpful"), which the
guide never gives: it names kinds of degree (MBA, MHA, MMM) and one credential's awarding body, no school.

The model reads the degree words: that long message was answered at 0.97 with the MBA's sentence, and "Is an MBA
from a school outside the top 20 not good enough for CMO roles?" at 0.78. A question sentence that asks which
schools or universities, for a specific program or a school's name, for rankings, a top-N list or prestige, or that
names a business school, is refused while no sentence of the documents names one. "Do I need to go back to school?" and
"Are there physician-specific programs?" ask about the kinds the guide describes.
"""

from __future__ import annotations

import re

from bot.focus import focus

_SCHOOL_NAMES = (
    r"wharton|harvard|kellogg|stanford|fuqua|booth|sloan|haas|tuck|columbia\s+business|yale\s+som|johns\s+hopkins|carnegie"
    r"|tepper|ucla\s+anderson|ross\s+school|darden|goizueta|owen\s+school|jones\s+school|insead|london\s+business\s+school"
)
_NAMED = re.compile(
    r"\b(?:school|program|programme|university|college)\s+names?\b"
    r"|\bwhich\s+(?:specific\s+|particular\s+)?(?:schools?|universities|colleges|business\s+schools?|b-schools?)\b"
    r"|(?<![\w-])(?:specific|particular|named)\s+(?:[\w-]+\s+){0,3}?(?:schools?|programs?|programmes?|universities)\b"
    r"|\brank(?:ed|ing|ings)\b|\btop[\s-]?(?:\d+|ten|five|twenty)\b|\bivy\s+league\b|\bprestig\w*\b"
    rf"|\b(?:{_SCHOOL_NAMES})\b",
    re.IGNORECASE,
)


asks_named_school, states_named_school = focus(_NAMED)
