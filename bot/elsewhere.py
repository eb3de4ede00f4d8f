"""Questions about physician executives in another country or health system ("How does the CMO role differ from
country to country?"), which the guide, written for US hospitals, payers and drug companies, never describes.

The model reads the question's role words, not its setting: "How does the CMO role differ from country to country?"
was answered (0.57) with the roles' settings, "what quality metrics do uk hospitals use instead of hcahps for a cqo
type role" (0.73) with the CQO's, "cmo jobs in india - do hospitals there even care about an mba or mmm" (0.70) with
the credentials. A question sentence that names another country, region or system (the NHS, the military, the VA, a
public health department, a contract research organization) is refused while no sentence of the documents names one.
A place in the member's own history ("trained in India, now an internist in Ohio - which degrees do physician execs
usually get?") is context, not what is asked.

The guide does not tell one kind of hospital from another either: "How does the CMO role differ at an academic medical
center vs a community hospital?" was answered (0.54) with the hospital CMO's sentence, "What extra complexity do CMOs
at teaching hospitals deal with?" (0.73) too. A question sentence that sets two kinds of hospital side by side, or asks
what differs at one, is refused while no sentence names a kind; a member's own hospital ("i'm at a 200-bed community
hospital. what would our CMO actually be in charge of?") is a hospital, which the guide describes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.query import question_sentences

_PLACES = (
    r"u\.?k\.?|united\s+kingdom|great\s+britain|britain|british|england|english\s+hospitals?|scotland|scottish|wales|welsh"
    r"|ireland|irish|nhs(?:\s+trusts?)?|canada|canadian|toronto|ontario|quebec|australia|australian|new\s+zealand|nz"
    r"|india|indian\s+hospitals?|pakistan|bangladesh|sri\s+lanka|nepal|singapore|philippines|malaysia|indonesia|thailand"
    r"|vietnam|hong\s+kong|taiwan|china|chinese\s+hospitals?|japan|japanese|korea|korean|nigeria|kenya|ghana|south\s+africa"
    r"|egypt|ethiopia|uganda|tanzania|rwanda|africa|african\s+hospitals?|saudi(?:\s+arabia)?|uae|united\s+arab\s+emirates"
    r"|emirates|dubai|abu\s+dhabi|qatar|kuwait|bahrain|oman|gulf\s+(?:states|countries|region)|middle\s+east|israel"
    r"|germany|german|france|french\s+hospitals?|netherlands|dutch|belgium|switzerland|swiss|austria|sweden|swedish|norway"
    r"|denmark|finland|scandinavia\w*|nordic|spain|spanish\s+hospitals?|italy|italian|portugal|poland|greece|europe"
    r"|european|eu|brazil|mexico|argentina|colombia|chile|peru|latin\s+america|south\s+america|caribbean|asia|asian\s+hospitals?"
    r"|abroad|overseas|internationally|other\s+countries|another\s+country|country\s+to\s+country|around\s+the\s+world"
    r"|worldwide|single[\s-]payer|military|army|navy|air\s+force|armed\s+forces|veterans\s+affairs"
    r"|va\s+(?:health|system|hospitals?|medical\s+centers?)|(?:the|a)\s+va|command\s+surgeon"
    r"|(?:state|county|city|local)?\s*(?:public\s+health|health)\s+departments?|public\s+health\s+agenc(?:y|ies)"
    r"|contract\s+research\s+organi[sz]ations?|cros?"
)
_PLACE = re.compile(rf"\b(?:{_PLACES})\b", re.IGNORECASE)
"""Countries, regions and systems a member might ask about. Names that are also common words ("Turkey", "Chad",
"Jordan") and US states that share a country's name ("Georgia") are left out."""
_OWN_HISTORY = re.compile(
    r"\b(?:trained|training|grew\s+up|born|raised|(?:i'?m|am|is|are|was|were|originally|came|comes)\s+from|studied|graduated"
    r"|graduate|immigrated|moved|came|originally|native"
    r"|school|residency|did|img|served|former|ex|retired|veteran|citizen|visa|left)\b(?:\W+\w+){0,4}\W+$",
    re.IGNORECASE,
)
"""Words, up to five words before a place, that make it the member's own history ("trained in India", "grew up in
Vietnam", "former army doc")."""


_HOSPITAL_KIND = re.compile(
    r"\b(?:academic\s+(?:medical\s+)?(?:centers?|centres?|hospitals?|health\s+systems?|institutions?|settings?)"
    r"|academic\s+medicine|teaching\s+hospitals?|community\s+hospitals?|rural\s+hospitals?|critical\s+access\s+hospitals?"
    r"|children'?s\s+hospitals?|safety[\s-]net\s+hospitals?|for[\s-]profit\s+(?:hospitals?|systems?|chains?)"
    r"|non[\s-]?profit\s+(?:hospitals?|systems?))\b",
    re.IGNORECASE,
)
_DIFFERS = re.compile(r"\b(?:differ\w*|compar\w*|unique|extra|particular\s+to|specific\s+to|distinct\w*|contrast\w*)\b", re.IGNORECASE)


def _compares_hospital_kinds(sentence: str) -> bool:
    kinds = _HOSPITAL_KIND.findall(sentence)
    return len(kinds) >= 2 or bool(kinds and _DIFFERS.search(sentence))


def asks_elsewhere(message: str) -> bool:
    """Whether a question sentence names another country, region or health system as what it asks about, or sets
    kinds of hospital against each other."""
    questions = question_sentences(message)
    return any(not _OWN_HISTORY.search(s[: m.start()]) for s in questions for m in _PLACE.finditer(s)) or any(
        _compares_hospital_kinds(s) for s in questions
    )


def states_elsewhere(sentences: Iterable[str]) -> bool:
    """Whether any sentence of the documents names another country, region or health system, or a kind of hospital."""
    return any(_PLACE.search(s) or _HOSPITAL_KIND.search(s) for s in sentences)
