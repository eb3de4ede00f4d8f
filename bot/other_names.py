"""Questions about the other names or titles a role goes by ("Are there any alternative names used for the CMO in
pharma?", "What other titles are used for the chief medical officer role at biotech companies?"), which the guide never
gives: it names each role once, with its acronym.

The model reads the role and its setting and answered the second at 0.63 with the pharmaceutical CMO's sentence. A
question sentence that asks for other, alternative or equivalent names or titles, or what a role is also called or known
as, is refused while no sentence of the documents gives one. A comparison of two titles the guide describes ("VPMA vs
CMO: what's the difference?") asks what each does, and is left to the rest.
"""

from __future__ import annotations

import re

from bot.focus import focus

_OTHER_NAME = re.compile(
    r"\b(?:other|alternative|alternate|different|equivalent|similar)\s+(?:job\s+)?(?:names?|titles?)\b"
    r"|\b(?:also|otherwise|sometimes)\s+(?:called|known\s+as|titled|referred\s+to\s+as)\b"
    r"|\bknown\s+by\s+(?:any\s+)?(?:an?\s+)?other\s+names?\b|\banother\s+(?:name|title)\s+for\b",
    re.IGNORECASE,
)


asks_other_name, states_other_name = focus(_OTHER_NAME)
