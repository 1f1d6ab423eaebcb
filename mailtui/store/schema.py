"""The cache's SQL schema and its forward migrations.

The schema version lives in ``PRAGMA user_version``; ``MIGRATIONS[i]`` takes a database
from version ``i`` to ``i + 1``. A migration is a tuple of single SQL statements (not a
script: trigger bodies contain semicolons) run in one ``BEGIN IMMEDIATE`` transaction
together with the ``user_version`` bump, so a crash mid-migration leaves the old version.
Never edit a released migration; append a new one.

Invariants the store code relies on:

- ``messages`` envelope columns (``subject``, ``from_addrs``, ``to_addrs``, ``cc_addrs``)
  never change after insert, and ``bodies`` rows are only deleted together with their
  message. ``messages_fts`` is an *external content* FTS5 table (it stores only the
  index, not a second copy of the text), so every removal from it has to repeat exactly
  the values that were indexed; the triggers below do that and rely on these two rules.
- New messages are indexed by the code that inserts them (``new_messages.add_messages``), in
  the same transaction; see the comment at the FTS triggers. Removals and bodies are
  indexed by triggers.
- ``folders.total`` / ``folders.unread`` and ``threads`` are kept by triggers on
  ``messages`` for updates and deletes, and by the code that inserts messages
  (``new_messages.add_messages``, the one path that does) for inserts, once per batch in
  the same transaction (version 9); nothing else writes them, and no reader ever counts
  rows.
- ``messages.folder_id IS NULL`` marks a message the user deleted for good whose DELETE
  op the server has not confirmed yet: it is invisible everywhere, but kept so that the
  intent can be undone or rolled back.
"""

from __future__ import annotations

from typing import Final

#: ``PRAGMA application_id`` of a mailtui cache ("mtui"), to tell it from other SQLite files.
APPLICATION_ID: Final = 0x6D747569

_V1: Final[tuple[str, ...]] = (
    """
    CREATE TABLE accounts (
        id      INTEGER PRIMARY KEY,
        name    TEXT NOT NULL UNIQUE,
        kind    TEXT NOT NULL,
        email   TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE folders (
        id           INTEGER PRIMARY KEY,
        account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name         TEXT NOT NULL,
        display_name TEXT NOT NULL,
        role         TEXT NOT NULL DEFAULT '',
        depth        INTEGER NOT NULL DEFAULT 0,
        selectable   INTEGER NOT NULL DEFAULT 1,
        position     INTEGER NOT NULL DEFAULT 0,
        state        TEXT NOT NULL DEFAULT '{}',
        total        INTEGER NOT NULL DEFAULT 0,
        unread       INTEGER NOT NULL DEFAULT 0,
        UNIQUE (account_id, name)
    )
    """,
    # AUTOINCREMENT: a local id is never reused, so a stale id held by the UI or by a
    # pending op can never point at a different message.
    """
    CREATE TABLE messages (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        folder_id       INTEGER REFERENCES folders(id) ON DELETE CASCADE,
        remote_id       TEXT,
        date            INTEGER NOT NULL,
        sender          TEXT NOT NULL,
        subject         TEXT NOT NULL,
        from_addrs      TEXT NOT NULL,
        to_addrs        TEXT NOT NULL,
        cc_addrs        TEXT NOT NULL,
        addresses       TEXT GENERATED ALWAYS AS
                            (from_addrs || ' ' || to_addrs || ' ' || cc_addrs) VIRTUAL,
        message_id      TEXT NOT NULL,
        in_reply_to     TEXT NOT NULL,
        refs            TEXT NOT NULL,
        size            INTEGER NOT NULL,
        flags           INTEGER NOT NULL,
        thread_id       INTEGER NOT NULL,
        has_attachments INTEGER NOT NULL,
        preview         TEXT NOT NULL
    )
    """,
    # The list: window() walks this index from either end and touches the table only for
    # the rows on screen.
    "CREATE INDEX messages_list ON messages (folder_id, date DESC, id DESC)",
    # Not partial: NULLs are distinct in a UNIQUE index, and the same index then also
    # finds the rows whose remote id is not known yet (moved, not yet confirmed).
    "CREATE UNIQUE INDEX messages_remote ON messages (folder_id, remote_id)",
    "CREATE INDEX messages_msgid ON messages (account_id, message_id)",
    """
    CREATE TABLE bodies (
        message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        raw        BLOB,
        text       TEXT NOT NULL DEFAULT ''
    )
    """,
    # message_id / folder_id are deliberately not foreign keys: an op describes the server
    # state at the time of the intent and must outlive the local row.
    """
    CREATE TABLE pending_ops (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        kind        TEXT NOT NULL,
        message_id  INTEGER,
        folder_id   INTEGER,
        folder_name TEXT,
        remote_id   TEXT,
        payload     TEXT NOT NULL DEFAULT '{}',
        undo        TEXT NOT NULL DEFAULT '{}',
        state       TEXT NOT NULL DEFAULT 'pending',
        attempts    INTEGER NOT NULL DEFAULT 0,
        last_error  TEXT NOT NULL DEFAULT '',
        created     INTEGER NOT NULL,
        updated     INTEGER NOT NULL
    )
    """,
    "CREATE INDEX pending_ops_queue ON pending_ops (account_id, state, id)",
    """
    CREATE INDEX pending_ops_message ON pending_ops (message_id)
        WHERE state IN ('pending', 'in_flight')
    """,
    """
    CREATE INDEX pending_ops_remote ON pending_ops (folder_id, remote_id)
        WHERE state IN ('pending', 'in_flight')
    """,
    """
    CREATE TABLE outbox (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        raw         BLOB NOT NULL,
        mail_from   TEXT NOT NULL,
        recipients  TEXT NOT NULL,
        state       TEXT NOT NULL DEFAULT 'queued',
        attempts    INTEGER NOT NULL DEFAULT 0,
        last_error  TEXT NOT NULL DEFAULT '',
        created     INTEGER NOT NULL
    )
    """,
    # FTS5 reads column values from this view only for 'rebuild' and auxiliary functions;
    # the triggers feed it directly.
    """
    CREATE VIEW messages_fts_source AS
        SELECT m.id AS id, m.subject AS subject, m.addresses AS addresses,
               coalesce(b.text, '') AS body
        FROM messages m LEFT JOIN bodies b ON b.message_id = m.id
    """,
    # columnsize=0: no per-row size table (nothing ranks by bm25), ~25% faster inserts.
    """
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        subject, addresses, body,
        content = 'messages_fts_source', content_rowid = 'id',
        columnsize = 0, tokenize = 'unicode61 remove_diacritics 2'
    )
    """,
    # --- counters: total/unread per folder, so counting never scans ------------------
    """
    CREATE TRIGGER messages_count_insert AFTER INSERT ON messages
    WHEN new.folder_id IS NOT NULL BEGIN
        UPDATE folders SET total = total + 1, unread = unread + 1 - (new.flags & 1)
        WHERE id = new.folder_id;
    END
    """,
    """
    CREATE TRIGGER messages_count_delete AFTER DELETE ON messages
    WHEN old.folder_id IS NOT NULL BEGIN
        UPDATE folders SET total = total - 1, unread = unread - 1 + (old.flags & 1)
        WHERE id = old.folder_id;
    END
    """,
    """
    CREATE TRIGGER messages_count_update AFTER UPDATE OF flags, folder_id ON messages
    WHEN old.folder_id IS NOT new.folder_id OR (old.flags & 1) != (new.flags & 1) BEGIN
        UPDATE folders SET total = total - 1, unread = unread - 1 + (old.flags & 1)
        WHERE id = old.folder_id;
        UPDATE folders SET total = total + 1, unread = unread + 1 - (new.flags & 1)
        WHERE id = new.folder_id;
    END
    """,
    # --- full-text index ----------------------------------------------------------
    # No insert trigger on messages: the one code path that inserts messages
    # (store/new_messages.py) indexes the whole batch with one INSERT … SELECT, which
    # measured 2-3x faster than a per-row trigger feeding FTS5.
    # BEFORE: the body row (deleted by the cascade) still holds the indexed text.
    """
    CREATE TRIGGER messages_fts_delete BEFORE DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, subject, addresses, body)
        VALUES ('delete', old.id, old.subject, old.addresses,
                coalesce((SELECT text FROM bodies WHERE message_id = old.id), ''));
    END
    """,
    """
    CREATE TRIGGER bodies_fts_insert AFTER INSERT ON bodies BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, subject, addresses, body)
            SELECT 'delete', id, subject, addresses, '' FROM messages WHERE id = new.message_id;
        INSERT INTO messages_fts (rowid, subject, addresses, body)
            SELECT id, subject, addresses, new.text FROM messages WHERE id = new.message_id;
    END
    """,
    """
    CREATE TRIGGER bodies_fts_update AFTER UPDATE OF text ON bodies
    WHEN old.text IS NOT new.text BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, subject, addresses, body)
            SELECT 'delete', id, subject, addresses, old.text FROM messages
            WHERE id = new.message_id;
        INSERT INTO messages_fts (rowid, subject, addresses, body)
            SELECT id, subject, addresses, new.text FROM messages WHERE id = new.message_id;
    END
    """,
    f"PRAGMA application_id = {APPLICATION_ID}",
)

# Version 2: the conversation view and "next unread" without scanning a folder.
#
# ``threads`` holds one row per (folder, thread) with the thread's newest message in that
# folder and its counters, kept by triggers on ``messages`` like the folder counters; the
# list of conversations is then a walk of ``threads_list`` (the same trick as
# ``messages_list``), and ``folders.threads`` is its length. ``messages_thread`` finds a
# thread's messages in a folder, and the newest remaining one when the newest leaves.
# ``messages_unread`` is partial (unread rows only): "next unread" is one index probe.
_THREAD_ADD: Final = """
    INSERT INTO threads (folder_id, thread_id, latest_date, latest_id, total, unread)
    SELECT new.folder_id, new.thread_id, new.date, new.id, 1, 1 - (new.flags & 1)
    WHERE new.folder_id IS NOT NULL
    ON CONFLICT (folder_id, thread_id) DO UPDATE SET
        total = total + 1,
        unread = unread + excluded.unread,
        latest_id = CASE WHEN (excluded.latest_date, excluded.latest_id) > (latest_date, latest_id)
                    THEN excluded.latest_id ELSE latest_id END,
        latest_date = max(latest_date, excluded.latest_date);
"""
_THREAD_REMOVE: Final = """
    UPDATE threads SET total = total - 1, unread = unread - 1 + (old.flags & 1)
    WHERE folder_id = old.folder_id AND thread_id = old.thread_id;
    DELETE FROM threads
    WHERE folder_id = old.folder_id AND thread_id = old.thread_id AND total <= 0;
    UPDATE threads SET (latest_date, latest_id) = (
        SELECT date, id FROM messages INDEXED BY messages_thread
        WHERE folder_id = old.folder_id AND thread_id = old.thread_id
        ORDER BY date DESC, id DESC LIMIT 1)
    WHERE folder_id = old.folder_id AND thread_id = old.thread_id AND latest_id = old.id;
"""
_V2: Final[tuple[str, ...]] = (
    """
    CREATE TABLE threads (
        folder_id   INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
        thread_id   INTEGER NOT NULL,
        latest_date INTEGER NOT NULL,
        latest_id   INTEGER NOT NULL,
        total       INTEGER NOT NULL,
        unread      INTEGER NOT NULL,
        PRIMARY KEY (folder_id, thread_id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX threads_list ON threads (folder_id, latest_date DESC, latest_id DESC)",
    "CREATE INDEX messages_thread ON messages (folder_id, thread_id, date DESC, id DESC)",
    "CREATE INDEX messages_unread ON messages (folder_id, date DESC, id DESC) WHERE flags & 1 = 0",
    "ALTER TABLE folders ADD COLUMN threads INTEGER NOT NULL DEFAULT 0",
    """
    CREATE TRIGGER threads_count_insert AFTER INSERT ON threads BEGIN
        UPDATE folders SET threads = threads + 1 WHERE id = new.folder_id;
    END
    """,
    """
    CREATE TRIGGER threads_count_delete AFTER DELETE ON threads BEGIN
        UPDATE folders SET threads = threads - 1 WHERE id = old.folder_id;
    END
    """,
    f"""
    CREATE TRIGGER messages_threads_insert AFTER INSERT ON messages
    WHEN new.folder_id IS NOT NULL BEGIN {_THREAD_ADD} END
    """,
    f"""
    CREATE TRIGGER messages_threads_delete AFTER DELETE ON messages
    WHEN old.folder_id IS NOT NULL BEGIN {_THREAD_REMOVE} END
    """,
    f"""
    CREATE TRIGGER messages_threads_move AFTER UPDATE OF folder_id ON messages
    WHEN old.folder_id IS NOT new.folder_id BEGIN {_THREAD_REMOVE} {_THREAD_ADD} END
    """,
    """
    CREATE TRIGGER messages_threads_flags AFTER UPDATE OF flags ON messages
    WHEN old.folder_id IS new.folder_id AND (old.flags & 1) != (new.flags & 1) BEGIN
        UPDATE threads SET unread = unread + (old.flags & 1) - (new.flags & 1)
        WHERE folder_id = new.folder_id AND thread_id = new.thread_id;
    END
    """,
    """
    INSERT INTO threads (folder_id, thread_id, latest_date, latest_id, total, unread)
    SELECT folder_id, thread_id, max(date), id, count(*), sum(1 - (flags & 1))
    FROM messages WHERE folder_id IS NOT NULL GROUP BY folder_id, thread_id
    """,
)

# Version 3: bodies in files beside the database (mailtui/store/bodyfiles.py).
#
# ``bodies.size`` not NULL: the raw message is the file of that many bytes named by the
# message id, and ``raw`` is NULL. Rows of version 2 keep their ``raw`` BLOB (size NULL)
# and stay readable; whatever is stored from now on goes to a file. A deleted row whose
# body is a file leaves its id in ``dead_bodies``, in the same transaction, for the store
# to unlink the file once the deletion has committed.
#
# ``bodies.indexed = 0``: the body is cached but its text is not in the search index yet
# (``text`` is ''); the sync stores bodies first and indexes them after (Store.
# bodies_to_index / set_body_texts), so the download never waits for text extraction.
_V3: Final[tuple[str, ...]] = (
    "ALTER TABLE bodies ADD COLUMN size INTEGER",
    "ALTER TABLE bodies ADD COLUMN indexed INTEGER NOT NULL DEFAULT 1",
    "CREATE INDEX bodies_unindexed ON bodies (message_id) WHERE indexed = 0",
    # ``messages.has_body``: whether a body is cached, kept by triggers on ``bodies``, so
    # that "which messages still need their body" walks only those (a no-change sync of
    # a large folder used to probe every message of the window).
    "ALTER TABLE messages ADD COLUMN has_body INTEGER NOT NULL DEFAULT 0",
    """
    UPDATE messages SET has_body = 1 WHERE id IN
        (SELECT message_id FROM bodies WHERE raw IS NOT NULL OR size IS NOT NULL)
    """,
    """
    CREATE INDEX messages_bodyless ON messages (folder_id, date DESC, id DESC)
    WHERE has_body = 0
    """,
    """
    CREATE TRIGGER bodies_has_body_insert AFTER INSERT ON bodies
    WHEN new.raw IS NOT NULL OR new.size IS NOT NULL BEGIN
        UPDATE messages SET has_body = 1 WHERE id = new.message_id;
    END
    """,
    """
    CREATE TRIGGER bodies_has_body_update AFTER UPDATE OF raw, size ON bodies BEGIN
        UPDATE messages SET has_body = (new.raw IS NOT NULL OR new.size IS NOT NULL)
        WHERE id = new.message_id;
    END
    """,
    """
    CREATE TRIGGER bodies_has_body_delete AFTER DELETE ON bodies BEGIN
        UPDATE messages SET has_body = 0 WHERE id = old.message_id;
    END
    """,
    # A body stored before its text is known leaves the index as it is (body '').
    "DROP TRIGGER bodies_fts_insert",
    """
    CREATE TRIGGER bodies_fts_insert AFTER INSERT ON bodies WHEN new.text != '' BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, subject, addresses, body)
            SELECT 'delete', id, subject, addresses, '' FROM messages WHERE id = new.message_id;
        INSERT INTO messages_fts (rowid, subject, addresses, body)
            SELECT id, subject, addresses, new.text FROM messages WHERE id = new.message_id;
    END
    """,
    "CREATE TABLE dead_bodies (message_id INTEGER PRIMARY KEY)",
    """
    CREATE TRIGGER bodies_file_delete AFTER DELETE ON bodies
    WHEN old.size IS NOT NULL BEGIN
        INSERT OR IGNORE INTO dead_bodies (message_id) VALUES (old.message_id);
    END
    """,
)

# Version 4: bodies in pack files (mailtui/store/packs.py).
#
# ``bodies.pack`` not NULL: the raw message is the record at ``pos`` in pack ``pack``
# (``size`` bytes after a 24-byte header). ``packs`` has one row per pack: ``size`` is the
# end of its last committed record, ``dead`` the bytes of records no row names any more
# (kept by the triggers below; the 24 is the record header, packs.HEADER_SIZE). Bodies of
# version 3 (a file per message: ``size`` not NULL, ``pack`` NULL) stay readable; when one
# is deleted or stored again into a pack, its id goes to ``dead_bodies`` as before.
_V4: Final[tuple[str, ...]] = (
    "ALTER TABLE bodies ADD COLUMN pack INTEGER",
    "ALTER TABLE bodies ADD COLUMN pos INTEGER",
    "CREATE INDEX bodies_pack ON bodies (pack, pos) WHERE pack IS NOT NULL",
    """
    CREATE TABLE packs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        size INTEGER NOT NULL DEFAULT 0,
        dead INTEGER NOT NULL DEFAULT 0
    )
    """,
    "DROP TRIGGER bodies_file_delete",
    """
    CREATE TRIGGER bodies_file_delete AFTER DELETE ON bodies
    WHEN old.size IS NOT NULL AND old.pack IS NULL BEGIN
        INSERT OR IGNORE INTO dead_bodies (message_id) VALUES (old.message_id);
    END
    """,
    """
    CREATE TRIGGER bodies_file_replaced AFTER UPDATE OF pack ON bodies
    WHEN old.size IS NOT NULL AND old.pack IS NULL AND new.pack IS NOT NULL BEGIN
        INSERT OR IGNORE INTO dead_bodies (message_id) VALUES (old.message_id);
    END
    """,
    """
    CREATE TRIGGER bodies_pack_delete AFTER DELETE ON bodies
    WHEN old.pack IS NOT NULL BEGIN
        UPDATE packs SET dead = dead + 24 + old.size WHERE id = old.pack;
    END
    """,
    """
    CREATE TRIGGER bodies_pack_replaced AFTER UPDATE OF pack, pos ON bodies
    WHEN old.pack IS NOT NULL AND (new.pack IS NOT old.pack OR new.pos IS NOT old.pos) BEGIN
        UPDATE packs SET dead = dead + 24 + old.size WHERE id = old.pack;
    END
    """,
)

# Sync beyond mail. ``folders.kind`` says what a folder holds (models.FolderKind).
# ``account_state``: the backend's sync state of a whole account (EAS FolderSync key,
# PolicyKey, DeviceId), a JSON object committed with the batch it belongs to.
# ``contacts`` and ``calendar_items``: per folder, keyed by the server's id like
# messages; ``data`` keeps the protocol's fields that have no column (JSON). Calendar
# reads ask for a time range: ``calendar_items_range`` walks an account's items by
# start up to the range's end.
_V5: Final[tuple[str, ...]] = (
    "ALTER TABLE folders ADD COLUMN kind TEXT NOT NULL DEFAULT 'mail'",
    """
    CREATE TABLE account_state (
        account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        state      TEXT NOT NULL DEFAULT '{}'
    )
    """,
    """
    CREATE TABLE contacts (
        id           INTEGER PRIMARY KEY,
        account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        folder_id    INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
        remote_id    TEXT NOT NULL,
        display_name TEXT NOT NULL DEFAULT '',
        emails       TEXT NOT NULL DEFAULT '[]',
        phones       TEXT NOT NULL DEFAULT '[]',
        organization TEXT NOT NULL DEFAULT '',
        notes        TEXT NOT NULL DEFAULT '',
        data         TEXT NOT NULL DEFAULT '{}',
        UNIQUE (folder_id, remote_id)
    )
    """,
    "CREATE INDEX contacts_account ON contacts (account_id, display_name)",
    """
    CREATE TABLE calendar_items (
        id          INTEGER PRIMARY KEY,
        account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        folder_id   INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
        remote_id   TEXT NOT NULL,
        summary     TEXT NOT NULL DEFAULT '',
        starts_at   INTEGER NOT NULL,
        ends_at     INTEGER NOT NULL,
        all_day     INTEGER NOT NULL DEFAULT 0,
        location    TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        organizer   TEXT NOT NULL DEFAULT '',
        timezone    TEXT NOT NULL DEFAULT '',
        recurrence  TEXT NOT NULL DEFAULT '',
        data        TEXT NOT NULL DEFAULT '{}',
        UNIQUE (folder_id, remote_id)
    )
    """,
    "CREATE INDEX calendar_items_range ON calendar_items (account_id, starts_at)",
)

# Sending. ``outbox.origin``: the message an outgoing reply or forward answers, as JSON
# ``{"message_id": <store id>, "header_id": "<Message-ID>", "flag": <Flag bit>}`` (``{}``
# for a new message), so the original gets \Answered / $Forwarded once it is sent.
# ``accounts.sent_copies``: what the user chose when the account had no Sent folder:
# "" not asked yet, "create" (a Sent folder was made), "none" (keep no copies).
_V6: Final[tuple[str, ...]] = (
    "ALTER TABLE outbox ADD COLUMN origin TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE accounts ADD COLUMN sent_copies TEXT NOT NULL DEFAULT ''",
)

# Folders on the server that the account does not show (IMAP: not subscribed) are kept
# too, so the folder pane can list them greyed: ``folders.subscribed`` is 0 for those,
# and the worker does not sync them. Every folder cached before was one the account showed.
_V7: Final[tuple[str, ...]] = (
    "ALTER TABLE folders ADD COLUMN subscribed INTEGER NOT NULL DEFAULT 1",
)

# The download ledger of accounts whose server keeps nothing for us (POP3): one row per
# server id (UIDL) ever downloaded, kept after the message row is gone so that nothing is
# downloaded twice (store/downloads.py). ``whole``: the whole body is stored (a header-only
# row is never deleted from the server); ``key``: Message-ID and size, to know the message
# under a new server id; ``message_id``: the local row (a local move keeps it), no foreign
# key: the ledger outlives it. ``deleted_at`` is set by the trigger below in the
# transaction that removes the message row for good (emptied from Trash, deleted for
# good, its local folder deleted); ``gone_at`` when the server no longer lists it;
# ``dele_at`` when a DELE of it was last sent (final only at QUIT: the next listing tells).
_V8: Final[tuple[str, ...]] = (
    """
    CREATE TABLE downloads (
        account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        server_id     TEXT NOT NULL,
        message_id    INTEGER,
        downloaded_at INTEGER NOT NULL,
        whole         INTEGER NOT NULL DEFAULT 0,
        key           TEXT NOT NULL DEFAULT '',
        deleted_at    INTEGER,
        gone_at       INTEGER,
        dele_at       INTEGER,
        PRIMARY KEY (account_id, server_id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX downloads_message ON downloads (message_id) WHERE message_id IS NOT NULL",
    "CREATE INDEX downloads_key ON downloads (account_id, key) WHERE key != ''",
    """
    CREATE TRIGGER downloads_deleted_here AFTER DELETE ON messages BEGIN
        UPDATE downloads SET deleted_at = CAST(strftime('%s', 'now') AS INTEGER)
        WHERE message_id = old.id AND deleted_at IS NULL;
    END
    """,
)

# Version 9: a batch's new messages are counted, and added to their threads, by one
# statement each for the batch (``new_messages.add_messages``), not by two triggers per
# row: at 100,000 messages the row triggers cost 0.33 s of the writer thread's SQLite
# work and the batch statements 0.16 s (docs/decisions.md, "Counting a batch once").
# Updates and deletes keep their triggers.
_V9: Final[tuple[str, ...]] = (
    "DROP TRIGGER messages_count_insert",
    "DROP TRIGGER messages_threads_insert",
)

#: ``MIGRATIONS[i]`` takes the schema from version ``i`` to ``i + 1``.
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    _V1,
    _V2,
    _V3,
    _V4,
    _V5,
    _V6,
    _V7,
    _V8,
    _V9,
)

#: The version this code writes.
SCHEMA_VERSION: Final = len(MIGRATIONS)
