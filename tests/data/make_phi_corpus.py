"""Writes tests/data/phi_corpus.jsonl: messages members might send, with the patient identifiers in each.

Run from the repository root: `python tests/data/make_phi_corpus.py`. The output is committed; this
script is how it was made (seeded, so it writes the same file again) and how to grow it.

Each line is `{"text": …, "identifiers": [...], "source": …}`: every identifier is a substring of the
text that must not survive `redact` (a name, a record number, a date of birth, a phone number, an SSN,
an e-mail address, a date of a patient's care). Clean questions have none, and `redact` must return
them unchanged. PHI-bearing messages come in plain text, Slack markup (`*bold*`, `_italic_`,
`<mailto:…|…>`, `<tel:…|…>`) and Teams HTML (`<p><strong>MRN</strong>: 1234567</p>`, `&nbsp;`).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).with_name("phi_corpus.jsonl")

NAMES = [
    "John Smith", "maria lopez", "JANE DOE", "José García", "Zoë Ñúñez", "Łukasz Nowak", "Siobhán O'Neill",
    "Jean-Luc Picard", "Nguyễn Văn An", "Mohammed Al-Rashid", "Aoife McCarthy", "Peter Parker", "Anna-Maria Müller",
    "Björn Ågren", "Chloé Dubois", "Priya Raghunathan", "Kwame Mensah", "Olga Ivanova", "Ana Sofía Ramírez",
    "Seán Ó Briain", "Donald McDonald", "Renée D’Angelo", "robert brown", "LINDA NGUYEN", "Tomás Ortega",
    "Fatima Zahra", "Hiroshi Tanaka", "Søren Kierkegaard", "Grace Hopper", "Will Turner", "Rose Tyler",
    "Mark Chen", "Dmitri Sokolov", "Ngozi Okafor", "Émile Zola", "Ingrid Bergström", "Carlos Gutiérrez",
    "Yuki Sato", "Amir Haddad", "Giulia Rossi", "Patrick O'Malley", "Ewa Wiśniewska", "Ravi Shankar",
]
LAST_FIRST = [
    ("Wayne", "Bruce"), ("Kent", "Clark"), ("García", "José"), ("MÜLLER", "ANNA"), ("O'Brien", "Mary"),
    ("Nowak", "Łukasz"), ("Okafor", "Ngozi"), ("Smith", "John Q."),
]
SURNAMES = ["Smith", "Garcia", "O'Brien", "McDonald", "Nguyen", "Müller", "Dubois", "Kowalski", "Haddad", "Tanaka", "Ivanova"]


def digits(rng: random.Random, n: int) -> str:
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))


def mrn(rng: random.Random) -> tuple[str, str]:
    """(how the label and number are written, the number)"""
    n = digits(rng, rng.choice([7, 8, 8, 9, 10]))
    short = digits(rng, 4)
    forms = [
        ("MRN {v}", n), ("MRN#: {v}", n), ("MRN - {v}", n), ("MR# {v}", n), ("MRN *{v}*", short),
        ("mrn:{v}", n), ("Medical Record Number: {v}", "A" + n[:7]), ("med rec # {v}", n), ("chart #{v}", n),
        ("Patient ID: {v}", n), ("pt id {v}", n), ("MRN: {v}", f"{n[:2]}-{n[2:5]}-{n[5:8]}"),
        ("MRN {v}", f"{n[:3]} {n[3:6]} {n[6:9]}"), ("<p><strong>MRN</strong>: {v}</p>", n), ("*MRN:* {v}", n),
        ("_MRN_ {v}", n), ("MRN&nbsp;{v}", n), ("acct {v}", n), ("account number {v}", n), ("FIN {v}", n),
        ("CSN: {v}", n), ("encounter # {v}", n), ("M.R.N. {v}", n), ("MRN (Epic): {v}", n), ("MRN= {v}", n),
        ("medical record no. {v}", n), ("health record number {v}", n), ("MR no {v}", n), ("MRN is {v}", n),
        ("{v} (MRN)", n), ("Medicaid # {v}", n), ("<b>Patient ID</b>&#58; {v}", n), ("MRN `{v}`", n),
    ]
    form, value = rng.choice(forms)
    return form.format(v=value), value


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec",
          "January", "March", "July", "September", "December", "MAR", "AUG"]


def dob(rng: random.Random) -> tuple[str, str]:
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1925, 2015)
    mon = rng.choice(MONTHS)
    values = [
        f"{m}/{d}/{y}", f"{d:02d}-{mon}-{y}", f"{d} {mon} {y % 100:02d}", f"{d} {mon} {y}", f"{mon} {d}, {y}",
        f"{mon} {d}th {y}", f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}", f"{m}/{d}/{y % 100:02d}", f"{d}-{mon}-{y % 100:02d}",
        f"{d}th of {mon}, {y}", f"{m}-{d}-{y}",
    ]
    value = rng.choice(values)
    forms = ["DOB {v}", "DOB: {v}", "dob {v}", "D.O.B. {v}", "date of birth {v}", "born on {v}", "born {v}",
             "DOB - {v}", "*DOB:* {v}", "<strong>DOB</strong> {v}", "birthdate: {v}", "Date of Birth: <b>{v}</b>",
             "DOB is {v}", "_DOB_ {v}", "DOB&nbsp;{v}", "(DOB {v})", "birthday {v}"]
    return rng.choice(forms).format(v=value), value


def phone(rng: random.Random) -> tuple[str, str]:
    a, b, c = rng.randint(201, 989), rng.randint(200, 999), rng.randint(1000, 9999)
    value = rng.choice([f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"+1 {a} {b} {c}", f"{a}.{b}.{c}", f"{a}{b}{c}",
                        f"+44 20 7946 {c}", f"+49 30 {b}{c}", f"1-{a}-{b}-{c}"])
    forms = ["call her at {v}", "his cell is {v}", "phone: {v}", "daughter's number {v}", "<tel:{v}|{v}>",
             "reach him on {v}", "*phone* {v}", "<p>Phone: {v}</p>", "wife at {v}"]
    form = rng.choice(forms)
    return form.format(v=value), value


def ssn(rng: random.Random) -> tuple[str, str]:
    a, b, c = rng.randint(100, 665), rng.randint(10, 99), rng.randint(1000, 9999)
    value = rng.choice([f"{a}-{b}-{c}", f"{a}{b}{c}", f"{a} {b} {c}"])
    form = rng.choice(["SSN {v}", "SSN: {v}", "social {v}", "social security number {v}", "ss# {v}", "*SSN* {v}",
                       "<b>SSN</b>: {v}"])
    return form.format(v=value), value


def email(rng: random.Random, name: str) -> tuple[str, str]:
    first, *rest = name.lower().replace("'", "").split()
    user = rng.choice([f"{first}.{rest[-1] if rest else 'x'}", f"{first}_{rng.randint(1, 99)}", f"{first}+labs"])
    user = user.encode("ascii", "ignore").decode() or "pt"
    value = f"{user}@{rng.choice(['gmail.com', 'example.org', 'mail.co.uk', 'yahoo.com', 'hospital-mail.net'])}"
    form = rng.choice(["email {v}", "her e-mail is {v}", "<mailto:{v}|{v}>", "contact: {v}", "<a href=\"mailto:{v}\">{v}</a>"])
    return form.format(v=value), value


def care_date(rng: random.Random) -> tuple[str, str]:
    d, m = rng.randint(1, 28), rng.randint(1, 12)
    mon = rng.choice(MONTHS)
    value = rng.choice([f"{m}/{d}/2024", f"{d}-{mon}-2025", f"{mon} {d}, 2024", f"2025-{m:02d}-{d:02d}"])
    form = rng.choice(["admitted {v}", "seen on {v}", "discharged {v}", "surgery on {v}", "her visit {v}"])
    return form.format(v=value), value


def name_phrase(rng: random.Random) -> tuple[str, list[str]]:
    name = rng.choice(NAMES)
    last, first = rng.choice(LAST_FIRST)
    surname = rng.choice(SURNAMES)
    age = rng.randint(19, 98)
    forms: list[tuple[str, list[str]]] = [
        (f"my patient {name}", [name]), (f"pt {name}", [name]), (f"patient named {name}", [name]),
        (f"Patient: {last}, {first}", [f"{last}, {first}"]), (f"Mr. {surname}", [surname]), (f"Mrs {surname}", [surname]),
        (f"{name}, {age}M", [name]), (f"{name} {age} yo F", [name]), (f"Patient Name: {name}", [name]),
        (f"<p>Patient: <b>{name}</b></p>", [name]), (f"my patient *{name}*", [name]), (f"our pt _{name}_", [name]),
        (f"MY PATIENT {name.upper()}", [name.upper()]), (f"Name: {name}", [name]), (f"Ms. {surname}", [surname]),
        (f"the patient, {name},", [name]), ("Patient McDonald", ["McDonald"]), (f"pt. {name}", [name]),
        (f"{surname}, {age}F,", [surname]), (f"mr {surname.lower()}", [surname.lower()]),
    ]
    return rng.choice(forms)


STEMS = [
    "has chest pain, how do I document it?", "wants a second opinion, who do I ask?", "keeps calling the clinic.",
    "was admitted overnight; can I bill for it?", "needs a referral to cardiology", "fell at home last week",
    "complained about me to the CMO, how should I respond?", "missed three appointments", "is asking for records",
    "— should this go to risk management?", "and I'm not sure the chart is right", "asked about a transfer",
]


def phi_messages(rng: random.Random, count: int) -> list[dict[str, object]]:
    messages: list[dict[str, object]] = []
    makers = ["mrn", "dob", "phone", "ssn", "email", "date", "name"]
    for index in range(count):
        parts: list[str] = []
        identifiers: list[str] = []
        name, name_ids = name_phrase(rng)
        kinds = rng.sample(makers, k=rng.choice([1, 1, 2, 2, 3]))
        if index % 3 == 0 and "name" not in kinds:
            kinds.append("name")
        for kind in kinds:
            if kind == "name":
                parts.append(name)
                identifiers += name_ids
            elif kind == "mrn":
                text, value = mrn(rng)
                parts.append(text)
                identifiers.append(value)
            elif kind == "dob":
                text, value = dob(rng)
                parts.append(text)
                identifiers.append(value)
            elif kind == "phone":
                text, value = phone(rng)
                parts.append(text)
                identifiers.append(value)
            elif kind == "ssn":
                text, value = ssn(rng)
                parts.append(text)
                identifiers.append(value)
            elif kind == "email":
                text, value = email(rng, rng.choice(NAMES))
                parts.append(text)
                identifiers.append(value)
            else:
                text, value = care_date(rng)
                parts.append("patient " + text)
                identifiers.append(value)
        joiner = rng.choice([", ", " ", "; ", " — ", "\n"])
        text = joiner.join(parts) + " " + rng.choice(STEMS)
        if all(text.count(i) >= 1 for i in identifiers):
            messages.append({"text": text, "identifiers": identifiers, "source": "generated"})
    return messages


HAND_WRITTEN_PHI: list[tuple[str, list[str]]] = [
    ("MRN#: 23456789 needs a new PCP, who handles that?", ["23456789"]),
    ("MRN - 34567890 was double-booked", ["34567890"]),
    ("MR# 45678901 — can I see her as a new patient?", ["45678901"]),
    ("Can you look at MRN *1234* before clinic", ["1234"]),
    ("DOB 05-Mar-1958, how do I discuss goals of care?", ["05-Mar-1958"]),
    ("pt DOB 1 Feb 60 is asking about hospice", ["1 Feb 60"]),
    ("my patient josé garcía has COPD and is asking about a trial", ["josé garcía"]),
    ("my patient MARIA ELENA TORRES wants to switch doctors", ["MARIA ELENA TORRES"]),
    ("Patient: Wayne, Bruce — how do I handle a VIP admission?", ["Wayne, Bruce"]),
    ("Peter Parker, MRN 7788990, keeps leaving AMA", ["Peter Parker", "7788990"]),
    ("<p><strong>MRN</strong>: 1234567</p><p>How do I escalate a complaint?</p>", ["1234567"]),
    ("<p><strong>Patient</strong>: Jane Roe<br>DOB: 04/05/1971</p>", ["Jane Roe", "04/05/1971"]),
    ("*Patient:* Tony Stark *MRN:* 5550001 — is this a conflict of interest?", ["Tony Stark", "5550001"]),
    ("email <mailto:tony.stark@starkindustries.com|tony.stark@starkindustries.com> the results?", ["tony.stark@starkindustries.com"]),
    ("pt Ngozi Okafor (DOB 12/30/1988) asked me to be her PCP", ["Ngozi Okafor", "12/30/1988"]),
    ("Mrs. Ivanova, 88F, DNR status question", ["Ivanova"]),
    ("Smith, John 67M admitted 3/14/2024 for CHF", ["Smith, John", "3/14/2024"]),
    ("patient account 4455667788 was billed twice", ["4455667788"]),
    ("her FIN is 900123456, can billing fix it?", ["900123456"]),
    ("Patient #4455667 in bed 3 refuses meds", ["4455667"]),
    ("my patient’s SSN 123-45-6789 was printed on the wrong form", ["123-45-6789"]),
    ("pt: Li Wei, MRN: 00456789", ["Li Wei", "00456789"]),
    ("Patient name: محمد علي — needs an interpreter", ["محمد علي"]),
    ("my patient JOHN Q PUBLIC is a board member", ["JOHN Q PUBLIC"]),
    ("The patient named ava wants a letter", ["ava"]),
    ("record number 55667788 belongs to my patient", ["55667788"]),
    ("MRN 12345678\nDOB 4/5/1950\nName: Ruth Bader", ["12345678", "4/5/1950", "Ruth Bader"]),
    ("&lt;b&gt;MRN&lt;/b&gt;: 3344556 — lab error?", ["3344556"]),
    ("MRN\u00a09876543 is on my list twice", ["9876543"]),
    ("Bruce Banner DOB 1962-05-01 — anger management referral?", ["Bruce Banner", "1962-05-01"]),
    ("Pt is Jane Doe, 34 y/o female, DOB 2/2/1990 — can I refer her to my own clinic?", ["Jane Doe", "2/2/1990"]),
    ("Re: John Smith (MRN 00012345) — who signs the death certificate?", ["John Smith", "00012345"]),
    ("pt's name is Maria, MRN 8675309", ["Maria", "8675309"]),
    ("Mr JONES in bed 4 wants to leave AMA", ["JONES"]),
    ("Can I share Mrs. Patel's results with her son?", ["Patel's"]),
    ("DOB: 3rd March 1944, is she too old for the trial?", ["3rd March 1944"]),
    ("D.O.B 1/1/01 and mom wants the records", ["1/1/01"]),
    ("dob=1955-07-04 on the form is wrong", ["1955-07-04"]),
    ("Pt DOB: Sept. 9, 1939 — advance directive question", ["Sept. 9, 1939"]),
    ("patient born 12/25/1950 wants to change PCP", ["12/25/1950"]),
    ("MRN:12345678 / FIN:98765432 both show up", ["12345678", "98765432"]),
    ("medical record #: 556677 is locked", ["556677"]),
    ("Chart No. 4455667 has a missing consent", ["4455667"]),
    ("her number is 617-555-0123, she keeps calling", ["617-555-0123"]),
    ("fax 212 555 0188 the referral?", ["212 555 0188"]),
    ("SSN#: 321-54-9876 was on the fax cover sheet", ["321-54-9876"]),
    ("email: patient.name@outlook.com sent me a complaint", ["patient.name@outlook.com"]),
    ("<p>Name: <strong>Clark Kent</strong>, DOB: 06/18/1938</p>", ["Clark Kent", "06/18/1938"]),
    ("*Name:* Diana Prince *DOB:* 3/22/1941", ["Diana Prince", "3/22/1941"]),
    ("my pt, mr. kowalski, 81, fell in the hallway", ["kowalski"]),
    ("Seen Mrs. O’Connor on 4/2/2025 for follow-up", ["O’Connor", "4/2/2025"]),
    ("patient Ramírez-López, Ana — needs a translator", ["Ramírez-López, Ana"]),
    ("pt: SMITH, JOHN A — insurance denied", ["SMITH, JOHN A"]),
    ("Patient ID # A-00123456 is duplicated", ["A-00123456"]),
    ("the patient (Tom Hanks) signed out AMA", ["Tom Hanks"]),
    ("I treated Sarah Connor, 35F, for a gunshot wound", ["Sarah Connor"]),
    ("<p>Patient&nbsp;name:&nbsp;Hal Jordan</p>", ["Hal Jordan"]),
    ("<at>Guidebot</at> my patient Ludwig van Beethoven has hearing loss", ["Ludwig van Beethoven"]),
    ("Patient: María de la Cruz, MRN 4567890", ["María de la Cruz", "4567890"]),
]


CLEAN: list[str] = [
    "What does a VPMA do?", "I have 10 years of practice, is an MBA worth it?", "Can a DO become a CMO in 2027?",
    "I'm Dr. Patel, a hospitalist — how do I become a medical director?", "CMS Core Measures and HCAHPS",
    "What does a Chief Patient Experience Officer do?", "How do I improve patient satisfaction scores as a leader?",
    "Is the MRN system part of clinical informatics?", "What is the date of birth field used for in registration?",
    "Should I get an MHA or an MMM?", "My salary is $350,000 after 15 years; what does a CMO make?",
    "I was born in 1975, is it too late to start?", "Patient Safety Officer or CMO: which comes first?",
    "I see 20 patients a day and call is 1 in 4 nights", "Is a 2-year MMM program worth $80,000?",
    "Can a PT Director become COO?", "How do 5,000 wRVUs compare with 120 physicians across 5 sites?",
    "Dr. Jane Smith here, pediatrics: how do I join the board?", "ICD-10 and CPT coding roles for physicians?",
    "We are a 24/7/365 service line with 3 hospitals", "Who reports to the CMO at a 400-bed hospital?",
    "Dr. Smith the CMO said I should get my CPE first — is that right?",
    "My chair, Dr. Okafor, suggested the AAPL course. Is it good?",
    "What is the CPE credential and how long does it take?", "How many hours a week does a CMIO spend on clinical work?",
    "Is an MBA from a part-time program respected for a CEO role?", "How do I move from department chair to VPMA?",
    "What's the difference between a CMO and a CQO?", "Should I take a chief of staff role before applying for CMO?",
    "How do I negotiate a medical director stipend of $40k?", "What do HCAHPS scores mean for a CMO's bonus?",
    "How much time should I spend on patient care as a medical director?", "Is 55 too old to start an MBA?",
    "I'm 45 and a surgeon; can I still become a CEO?", "What does a physician advisor do for utilization review?",
    "How do I get on the patient safety committee?", "My patient panel is 2,400 — can I cut clinical time for admin work?",
    "Our patient volume grew 20% last year; do we need a second medical director?", "What is a dyad leadership model?",
    "How do I present at the medical executive committee?", "Is ACHE fellowship useful for physicians?",
    "What books do CMOs recommend? Dr. Berwick's?", "How do I lead a LEAN project as a hospitalist?",
    "What is the typical CMO tenure — 3 to 5 years?", "Is the CPHQ worth it for a CQO role?",
    "How do I write a CV for a VPMA job?", "Does a CMO need board certification to stay current?",
    "How do I handle a disruptive physician as a new chief?", "What does the CMO do in a Joint Commission survey?",
    "How do I become a CMIO without an informatics fellowship?", "Can I be CMO and keep 20% clinical time?",
    "What is the salary range for a VPMA in a 300-bed system?", "Is an MPH or an MBA better for population health leadership?",
    "How do I run a peer review committee fairly?", "What's a good first leadership role after residency?",
    "I'm a PGY-3, when should I start thinking about leadership?", "How do I get executive coaching paid for?",
    "What metrics does a CMO report to the board every quarter?", "How do I read a hospital P&L as a physician?",
    "Should I do a Six Sigma green belt?", "What does the Chief Medical Officer of an ACO do?",
    "How do I transition from private practice into hospital leadership?", "Is the AAPL CPE exam hard?",
    "How long is the MMM at Carnegie Mellon? 18 months?", "What's the difference between an MMM and an MBA?",
    "How do I become a department chair in 10 years?", "What does a Chief Quality Officer earn?",
    "Should I join the Patient Experience Council?", "How do patient advocates work with the CMO?",
    "What's the role of a CMO in value-based care contracts?", "How do I lead physicians who are older than me?",
    "What should I ask in a CMO interview?", "How do I build a 90-day plan as a new VPMA?",
    "Can I do an executive MBA while working 0.8 FTE?", "How do I measure physician engagement?",
    "What's a realistic timeline from medical director to CMO — 5 years?", "Is Epic physician builder certification useful?",
    "How do I get on a hospital board as a physician?", "Who is the CMO's boss, the CEO or the board?",
    "What does a CMO do about sepsis bundle compliance?", "How do I lead a service line with $120M revenue?",
    "What's the best way to learn healthcare finance?", "How much does the CPE cost in 2026?",
    "Should I take the Harvard leadership course or the AAPL one?", "How do I get 360 feedback as a chief?",
    "What does a regional CMO do across 6 hospitals?", "How do I handle a nurse manager conflict as medical director?",
    "I'm an internist with 12 years in practice. Next step?", "Does the VPMA role still exist in 2030?",
    "What is the Patient Access Director's relationship to the CMO?", "How do I reduce readmissions as a physician leader?",
    "How many FTEs report to a typical CMO?", "What is physician credentialing and who owns it?",
    "Is it better to be a CMO at a 100-bed or a 700-bed hospital?", "How do I talk to the CFO about budgets?",
    "My mentor Dr. Lee says the MBA is optional. Agree?", "What skills does a CMIO need beyond Epic?",
    "Is telehealth leadership a good niche?", "What is the role of the CMO in patient safety events?",
    "How do I start a physician wellness program?", "How do I cut burnout in a group of 40 doctors?",
    "What's the first thing a new CMO should do in week 1?", "How do I approach the CEO about a leadership role?",
    "Should I learn SQL to be a CMIO?", "Is the MHA from a top-10 program worth $90,000?",
    "How do I balance 50% admin and 50% clinical?", "What's the career path from hospitalist to CMO?",
    "What does the chief of staff do vs the CMO?", "How do I lead through a merger of 2 health systems?",
    "What certifications help a CQO — CPHQ, CPPS?", "How do I improve HCAHPS communication scores?",
    "Is a DNP a peer of a CMO in the C-suite?", "What's the CNO's relationship with the CMO?",
    "How do I chair the credentials committee?", "Can a PA become a medical director?",
    "What's the typical bonus for a CMO — 20% of base?", "How do I negotiate a 3-year CMO contract?",
    "What is the patient experience role in value-based purchasing?", "What does the VPMA do for graduate medical education?",
    "How do I become a physician executive at a payer like UnitedHealth?", "What is utilization management and who leads it?",
    "Is the CMO responsible for the medical staff bylaws?", "How do I deal with a surgeon who won't follow protocols?",
    "What should a CMO know about Stark and anti-kickback law?", "How do I run a morbidity and mortality conference?",
    "What is a physician compensation plan based on RVUs?", "What's a good leadership book for new chiefs?",
    "Should I move to a smaller hospital to become CMO sooner?", "How do I lead a Magnet designation effort as CMO?",
    "What does it mean to be a 'physician champion' for the EHR?", "How do I get experience with budgets before CMO?",
    "What is the role of the CMO in a Level I trauma center?", "How does a CMO work with the patient safety officer?",
    "I'm an ER doc with 8 years experience; CMO or CMIO?", "Is a chief wellness officer a real job?",
    "What do physician executives earn in academic centers?", "How do I lead change when doctors resist?",
    "My hospital has 1,200 nurses and 300 doctors; how big is the CMO's office?", "What's an interim CMO?",
    "How do I get a job through a physician executive search firm?", "What's the role of AAPL membership?",
    "What's the CMO's role in a sepsis quality metric like SEP-1?", "How do I prepare for a VPMA panel interview?",
    "What does the Chief Clinical Officer do?", "How do I manage up to a CEO without a clinical background?",
    "Can I be a CMO part-time at a critical access hospital?", "What are the top 3 skills for a medical director?",
    "Should I publish research to become CMO?", "How do I learn negotiation as a physician?",
    "What is the patient census like for a hospitalist director?", "How is CMO performance evaluated each year?",
    "What does the medical staff president do?", "What's the path from residency program director to DIO?",
    "How do I set goals for a department of 25 physicians?", "Is the CMO in charge of patient complaints?",
    "Who handles patient grievances, the CMO or patient relations?", "What does a Patient Relations Manager do?",
    "What's a CMO's typical day like?", "How do I become the VP of quality?", "Is 2027 too soon to apply for CMO?",
    "Can I get my MBA paid for by the hospital in 2026?", "What's a reasonable stipend for a 0.2 FTE director role?",
    "How do I speak to the board about quality?", "Dr. Garcia, our CMO, is retiring — should I apply?",
    "What is an RVU and why do CMOs care?", "What's a good 5-year plan for a new medical director?",
    "Should I learn about Press Ganey patient experience surveys?", "What are the HCAHPS domains?",
    "How do I get involved in the patient and family advisory council?", "Who owns patient flow, the CMO or the COO?",
    "What is throughput and why does the CMO care?", "How do I become a chief medical information officer?",
    "How many years of practice before a VPMA job — 10?", "What does the CMO do about physician burnout scores?",
    "How do I deliver bad news to a physician group as a leader?", "What is a CMO's role in malpractice claims?",
    "Is the CMO a member of the executive team?", "How do I prepare a 15-minute board presentation?",
    "Can I become CMO without ever being a department chair?", "What is an MMM and who offers it?",
    "Should I do a fellowship in medical management?", "How do I handle my first budget cycle?",
    "What's the difference between leadership and management for physicians?", "What do CMOs wish they knew earlier?",
    "What are common CMO interview questions about patient safety?", "How do I lead a code of conduct review?",
    "Is the Patient Protection and Affordable Care Act still relevant to CMOs?",
    "What is a Patient-Centered Medical Home and who leads it?", "Who is the Patient Advocate at a typical hospital?",
    "Our PT Manager wants to become a director — how?", "What did Dr. Atul Gawande say about checklists?",
    "Our CEO, Mary Jones, wants a new CMO; should I apply?", "Jane Smith, MD, MBA — is the CPE worth it after that?",
    "I'm 52 M with 20 years in practice; is it too late for a CMO role?", "As a 45 yo F surgeon, should I get an MBA?",
    "My NPI is 1234567893 — do I need it for the AAPL application?", "Is the 2025-2026 AAPL cohort full?",
    "Call schedules of 1 in 4 or 7 on 7 off — how do they affect leadership time?",
    "My patient experience scores went up 15% — does that help me become CMO?", "How does a patient navigator program work?",
    "What's the role of the Patient Safety Organization (PSO)?", "We have 250000 patient visits a year; how many medical directors?",
    "Our Medicare Advantage plan has 120000 members; what does its CMO do?", "Our ACO covers 150000 lives — who leads it?",
    "How do I handle a patient complaint as a new CMO?", "Who handles member ID cards at a health plan?",
    "Is case management under the CMO or the CNO?", "What's the patient portal's role in engagement?",
    "Is Patient First a good place to learn urgent care leadership?", "How do I become a Chief Patient Safety Officer?",
    "I manage 35 physicians and 12 APPs — is that enough for a VPMA application?",
    "What should I know about the Medicare Physician Fee Schedule for 2027?", "What is the CMS Star Rating and who owns it?",
    "I've been a hospitalist for 6 years; what's next?", "I'd like to be a CMIO by 40. Realistic?",
    "Our patient census is 300 on average; how big is the hospitalist group?", "Should a CMO know SQL or Tableau?",
    "I work PT Mondays and Fridays; can I still lead a department?", "Is MR imaging leadership a path to CMO?",
    "What is the PT/OT director's salary next to a medical director's?", "Patient Zero: what's the leadership lesson?",
    "HOW DO I IMPROVE PATIENT FLOW AS A NEW CMO?", "My patients love me, but should I go into administration?",
    "What's a good way to show leadership as a resident?", "What's the job market for CMOs in 2026 and 2027?",
]


def main() -> None:
    rng = random.Random(19)
    phi = [{"text": t, "identifiers": i, "source": "hand-written"} for t, i in HAND_WRITTEN_PHI]
    phi += phi_messages(rng, 200)
    clean = [{"text": t, "identifiers": [], "source": "hand-written"} for t in dict.fromkeys(CLEAN)]
    with OUT.open("w", encoding="utf-8") as out:
        for line in phi + clean:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"{len(phi)} PHI-bearing messages, {len(clean)} clean questions -> {OUT}")


if __name__ == "__main__":
    main()
