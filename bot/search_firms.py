"""Questions that ask which executive search firms to use, by name or by standing ("Which executive search firms are
the big ones for CMO searches?", "Korn Ferry or Spencer Stuart?"), which the guide never says: it tells members to
engage executive search firms and what they do, and names none.

The model reads the guide's own words ("executive search firms", "CMO searches") and answered that question at 0.66
with the networking section. A question sentence that asks which firms or agencies, for the top or biggest ones, or
that names a firm, is refused while no sentence of the documents names one. "Should I be talking to headhunters?",
"Why are recruiting firms involved in hiring for senior roles?" and "Which kind of firm runs a CMO search?" ask about
what the guide describes.
"""

from __future__ import annotations

import re

from bot.focus import focus

_FIRM_NAMES = (
    r"korn\s*ferry|spencer\s+stuart|witt\s*/?\s*kieffer|heidrick|russell\s+reynolds|b\.?\s?e\.?\s+smith|egon\s+zehnder"
    r"|grant\s+cooper|diversified\s+search|furst\s+group|kaye\s*/?\s*bassman|jackson\s+physician\s+search"
)
_FIRMS = r"(?:(?:executive|exec|healthcare|health\s+care|physician|retained|contingency|search|recruiting|recruitment)\s+){0,3}(?:search\s+)?(?:firms?|agenc(?:y|ies)|companies)"
_NAMED_FIRM = re.compile(
    rf"\bwhich\s+(?:specific\s+|particular\s+)?{_FIRMS}\b"
    rf"|\b(?:top|best|biggest|big|major|leading|largest|main)\s+(?:\d+\s+)?(?:{_FIRMS}|(?:(?:executive|exec|healthcare|health\s+care|physician)\s+){{0,2}}(?:recruiters|headhunters))\b"
    rf"|\bfirm\s+names?\b|\bnames?\s+of\s+(?:the\s+)?{_FIRMS}\b"
    rf"|\b(?:{_FIRM_NAMES})\b",
    re.IGNORECASE,
)


asks_named_firm, states_named_firm = focus(_NAMED_FIRM)
