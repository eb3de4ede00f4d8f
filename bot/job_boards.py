"""Questions that ask where executive openings are posted, or which job boards or websites list them ("List the job
boards where CMO openings get posted.", "where are cmo jobs posted? any good job boards"), which the guide never
says: it tells members that top positions are filled through referrals, targeted recruitment and search firms, and
names no board, site or listing.

The model reads the guide's recruitment words ("CMO openings", "positions") and answered those two at 0.75 and 0.91
with the networking section. A question sentence that asks which, the best or any job boards, job or career sites or
websites, or where openings are posted, advertised or listed, is refused while no sentence of the documents names
one. "How do most people land CMO jobs? Are they even posted on job boards?" and "How do these positions get filled if
not through job boards?" ask how the jobs are filled, which the guide answers; a hospital's board is no job board.
"""

from __future__ import annotations

import re

from bot.focus import focus

_BOARDS = (
    r"(?:job|jobs|career|careers|employment|recruiting|recruitment)\s+(?:boards?|sites?|websites?|portals?|listings?\s+sites?)"
    r"|websites?|online\s+listings?"
)
_ASKS_WHERE_POSTED = re.compile(
    r"\b(?:which|what|best|good|top|any|favou?rite|recommended|reliable|list(?:\s+(?:the|some|a\s+few))?"
    r"|name(?:\s+(?:the|some|a\s+few))?)\s+(?:[\w'-]+\s+){0,2}?(?:" + _BOARDS + r")\b"
    r"|\bwhere\s+(?:are|do|does|can|could|should|would|will|is|to)\s+(?:[\w'-]+\s+){0,6}?"
    r"(?:posted|advertised|listed|find\s+(?:the\s+)?(?:openings|listings|postings|vacancies))\b",
    re.IGNORECASE,
)
_STATES_WHERE_POSTED = re.compile(
    r"\b(?:job|jobs|career|careers|employment)\s+(?:boards?|sites?|websites?|portals?)\b"
    r"|\b(?:posted|listed|advertised)\s+(?:on|in|at|through)\b",
    re.IGNORECASE,
)


asks_job_boards, states_job_boards = focus(_ASKS_WHERE_POSTED, _STATES_WHERE_POSTED)
