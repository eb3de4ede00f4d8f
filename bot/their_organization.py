"""Survey questions about the reader's own organization ("Does your organization have a VPMA and/or a CMO?", "In what
way does your practice greet a newly arrived physician?"), which no guide can answer: only the reader knows their
hospital.

Public pages put them to their readers (a survey of CMOs and VPMAs, an interview guide), and they carry the guide's
words, so the model read them as covered (0.44 and 0.70 on banks that had not seen them). Members ask the bot with
"our" and "my" ("Our hospital is hiring a CMO: what will they oversee?"), not "your", and a page's generic "your"
names the organization as a setting or a beneficiary ("Why join your hospital's QI committee?", "How can a CQO help
your organization?"), which stands or falls on the rest. So only a question sentence whose subject is the reader's
organization ("does your practice …", "will you or your organization's physicians …") is refused, while no sentence
of the documents speaks to its reader's organization. Its roles are left to the rest ("What does your hospital's CMO
do?", "What does your CMO do all day?" are a page's generic "your").
"""

from __future__ import annotations

import re

from bot.focus import focus

_THEIR_ORGANIZATION = re.compile(
    r"\b(?:does|do|is|are|has|have|did|will|would|should|can|could)\s+(?:you\s+or\s+)?your\s+(?:own\s+)?"
    r"(?:organi[sz]ations?|hospitals?|health\s+systems?|practices?|institutions?|facility|facilities|medical\s+group|company)"
    r"\b(?!'s\s+(?:cmo|vpma|cqo|chief|medical\s+directors?|vice|quality|physician\s+executives?)\b)",
    re.IGNORECASE,
)


asks_their_organization, states_their_organization = focus(_THEIR_ORGANIZATION)
