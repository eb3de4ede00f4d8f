"""Durable state shared by every server replica.

Idempotency claims for platform retries, the question log, feedback on answers, the earlier
question of a thread, the answer each sent message carries, and hand-offs to the program team.
One implementation, `SqlStore`, runs on a SQLite file (one server) or on PostgreSQL (many
replicas, one database). Callers ask for the part they use (`Leases`, `QuestionLog`, `Feedback`,
`Conversations`, `Handoffs`) or the whole `StateStore`.

Claims come in two kinds: `claim` takes a key for good (for its TTL), and `claim_work` leases it
until `complete`, so work a replica claimed and then died doing is done again by the next
claimer rather than lost.

Privacy: questions arrive already redacted (see `bot.privacy`); the store keeps at most
`max_text_chars` of any text, without control characters (`stored_text`). User ids are stored
only as `hash_user` digests keyed with a secret (see `member_hash`), and thread and message keys,
which name a console session or a conversation, only as digests with the same key. `purge`
removes the question log, the feedback that quotes it and the message links to it once they pass
the retention period, keeping feedback only as daily counts per section; on SQLite the removed
text is overwritten (`secure_delete`) and the write-ahead log emptied, and the database file is
its owner's alone (0600).

The modules: `records` (the values), `protocols` (the uses), `schema` (the tables and their
migrations), `database` (engines and SQLite's settings), `writer` (this process's turns at
SQLite), `statements` (prebuilt SQL and leasing), `handoffs` (hand-offs to the program team), `staff` (the staff dashboard's accounts and counts), `guide` (the
Guide page's section counts and recent questions),
`purge`, and `sql` (`SqlStore`).
"""

from bot.store.database import normalize_database_url
from bot.store.protocols import Conversations, Feedback, Handoffs, Leases, QuestionLog, Staff, StateStore
from bot.store.records import (
    DEFAULT_MAX_TEXT_CHARS,
    FEEDBACK_VALUES,
    NO_SECTION,
    AnswerRecord,
    ClaimResult,
    FeedbackRecord,
    FeedbackTotal,
    ThreadContext,
    UnfinishedWork,
    hash_user,
    stored_text,
    utc_now,
    without_controls,
)
from bot.store.schema import SCHEMA_VERSION
from bot.store.sql import SqlStore

__all__ = [
    "DEFAULT_MAX_TEXT_CHARS",
    "FEEDBACK_VALUES",
    "NO_SECTION",
    "SCHEMA_VERSION",
    "AnswerRecord",
    "ClaimResult",
    "Conversations",
    "Feedback",
    "FeedbackRecord",
    "FeedbackTotal",
    "Handoffs",
    "Leases",
    "QuestionLog",
    "SqlStore",
    "Staff",
    "StateStore",
    "ThreadContext",
    "UnfinishedWork",
    "hash_user",
    "normalize_database_url",
    "stored_text",
    "utc_now",
    "without_controls",
]
