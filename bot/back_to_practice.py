"""Questions about going back to clinical practice from a leadership role ("How do you step down from a CMO role and go
back to full-time clinical practice?", "Can a former Chief Medical Officer return to full-time clinical practice?"),
which the guide never addresses: its path runs one way, from the clinic to the executive suite.

The model reads the role and "clinical practice", both the guide's, and answered the first at 0.76 with the clinical
expertise section. A question sentence that asks about going, coming or moving back to practice, medicine or patient
care, returning to them, or stepping down from a role, is refused while no sentence of the documents speaks of it. "Is
a med director job a step down from VPMA?" compares two steps of the path, and is left to the rest.
"""

from __future__ import annotations

import re

from bot.focus import focus

_CLINIC = (
    r"(?:full[\s-]time\s+|part[\s-]time\s+)?(?:clinical\s+)?(?:practice|practicing|practising|medicine|clinic|clinical\s+work"
    r"|clinical|patient\s+care|seeing\s+patients|the\s+bedside|the\s+wards?|the\s+or)"
)
_BACK = re.compile(
    r"\b(?:go|goes|going|went|come|comes|coming|move|moves|moving|get|gets|getting|transition\w*|switch\w*|head\w*)\s+back\s+"
    rf"(?:in)?to\s+{_CLINIC}\b"
    rf"|\breturn\w*\s+to\s+{_CLINIC}\b"
    r"|(?<!\ba\s)(?<!\ban\s)\bstep(?:s|ping|ped)?\s+down\s+from\s+(?:a|an|the|my|your|their|his|her)\s+",
    re.IGNORECASE,
)


asks_back_to_practice, states_back_to_practice = focus(_BACK)
