"""Questions about how the field is changing ("What Is Driving the Growth of the Chief Quality Officer Role?", "Why is
the capitation payment model gaining popularity?", "What's the job outlook for medical directors?"), which the guide
never states: it describes the roles and the path as they are, with no word on growth, demand or decline.

The model reads the role or term such a question is about and answers it (those two at 0.97 and 0.79, with the CQO's
and capitation's sentences). A question sentence that asks what drives a rise or a decline, whether something is
growing, becoming more or less common, or what the trends, outlook, job market or future are, is refused while no
sentence of the documents states such a change. "The hidden job market" is the guide's networking, "more common than"
(or "to", "among") compares options the guide describes ("Is an MBA more common than an MHA?"), and the guide's own
changes are not trends: a focus that shifts, the increase in scope from medical director to VPMA, skills a role
demands, strategic planning "becoming more important".
"""

from __future__ import annotations

import re

from bot.focus import focus

_CHANGE = (
    r"growth|rise|expansion|popularity|demand|decline|trend|surge|boom|drop|fall|shortage|turnover"
)
_TREND = re.compile(
    rf"\b(?:driving|drives|drove|behind|caus\w*|fuel\w*|explains?|explaining|reasons?\s+for|accounts?\s+for)"
    rf"\s+(?:the\s+|this\s+|that\s+)?(?:recent\s+|current\s+|rapid\s+|growing\s+)?(?:{_CHANGE})\b"
    r"|\bgaining\s+(?:popularity|traction|ground)\b|\b(?:is|are)\s+(?:still\s+)?(?:growing|rising|increasing|declining|shrinking|booming)\b"
    r"|\b(?:growing|rising|increasing|declining|shrinking|booming|falling)\s+(?:demand|numbers?|popularity|trend|need"
    r"|field|market|share)\b"
    r"|(?<!\bthe\s)\b(?:more|less)\s+(?:and\s+(?:more|less)\s+)?(?:common|popular|prevalent|widespread)\b(?!\s+(?:than|to|among|for|in)\b)"
    r"|\bon\s+the\s+(?:rise|decline|way\s+out)\b|\btrends?\b|\b(?:job|career|employment|hiring)\s+outlook\b"
    r"|\boutlook\s+for\b|(?<!hidden\s)\bjob\s+market\b|\bfuture\s+of\b"
    r"|\bbecom\w*\s+(?:(?:more|less)\s+(?:common|popular|prevalent|widespread|rare)|obsolete|extinct|rarer|the\s+norm)\b"
    r"|\bwhere\s+have\s+all\b|\bgoing\s+away\b"
    r"|\bwhy\s+(?:are|do|have|is)\s+(?:so\s+many|more(?:\s+and\s+more)?|fewer)\s+(?:[\w'-]+\s+){0,3}?"
    r"(?:adding|hiring|creating|appointing|recruiting|bringing\s+(?:on|in)|turning\s+to|moving\s+(?:to|into)|going\s+into"
    r"|leaving|choosing|pursuing|getting)\b"
    r"|\bdisappearing\b|\bdying\s+out\b",
    re.IGNORECASE,
)


asks_trend, states_trend = focus(_TREND)
