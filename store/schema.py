"""Schema of the shared database. All DDL of the project lives here, in SQLite's
spelling; `dialect.Postgres.ddl` rewrites the types for PostgreSQL and swaps the
trigger for PG_COUNTS_TRIGGER. One version number and one upgrade path for both."""

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # A lost "sent" mark becomes a duplicate message: fsync every commit.
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)

SCHEMA_VERSION = 6

# Upgrades of an existing database, by the version they lead to (a new database is
# created by DDL at the newest version). Each runs in the schema transaction.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (
        "ALTER TABLE messages ADD COLUMN clicked_at REAL",
        "ALTER TABLE messages ADD COLUMN requeues INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE messages ADD COLUMN verify_tries INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE messages ADD COLUMN review TEXT",
    ),
    # Several accounts: who claimed a message. A database from before had one account,
    # "default". Worker rows are only the live workers' state: recreated with their account.
    3: (
        "ALTER TABLE messages ADD COLUMN account TEXT",
        "UPDATE messages SET account = 'default' WHERE claimed_by IS NOT NULL",
        "DROP TABLE IF EXISTS workers",
    ),
    # Several hosts on one PostgreSQL database: the host a worker runs on. Worker rows are
    # live state only: recreated (by the DDL) with the column.
    4: ("DROP TABLE IF EXISTS workers",),
    # 5: the replies table (created by the DDL).
    # 6: the outbox, its targets and deliveries, and ix_messages_account_settled (created by the DDL).
}

DDL = (
    """CREATE TABLE IF NOT EXISTS jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        template TEXT NOT NULL,
        attachment TEXT,
        source_file TEXT,
        created_at REAL NOT NULL,
        start_at REAL,
        started_at REAL,
        finished_at REAL,
        total INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        phone TEXT NOT NULL,
        name TEXT,
        columns TEXT,
        text TEXT NOT NULL,
        attachment TEXT,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        last_error TEXT,
        claimed_by TEXT,
        -- the account that claimed it: only that account's chats can tell whether it was sent
        account TEXT,
        claimed_at REAL,
        -- committed just before the send click or key: NULL means it certainly never happened
        clicked_at REAL,
        sent_at REAL,
        updated_at REAL,
        -- automatic re-queues after a send click (bounded by sending.auto_requeue_limit)
        requeues INTEGER NOT NULL DEFAULT 0,
        -- verifications that could not decide, and why the message waits for a person
        verify_tries INTEGER NOT NULL DEFAULT 0,
        review TEXT,
        UNIQUE (job_id, phone)
    )""",
    # The queue: only claimable rows, in claim order. Keeps a claim O(log n) at 1M rows.
    """CREATE INDEX IF NOT EXISTS ix_messages_queue ON messages(job_id, id)
        WHERE status IN ('pending', 'retrying')""",
    # One job's messages in id order (the index holds the rowid): keyset pages, export.
    "CREATE INDEX IF NOT EXISTS ix_messages_job ON messages(job_id)",
    # Filtering one job's messages by a settled or in-flight status, paged by id. Partial:
    # every message starts pending, so an import never writes to it (pending and retrying
    # pages use the queue index). OR-connected terms so that `status = 'sent'` matches one.
    """CREATE INDEX IF NOT EXISTS ix_messages_job_settled ON messages(job_id, status, id)
        WHERE status = 'sending' OR status = 'sent' OR status = 'failed' OR status = 'invalid'
           OR status = 'skipped' OR status = 'unknown'""",
    # Messages whose fate must be verified after a crash.
    """CREATE INDEX IF NOT EXISTS ix_messages_in_flight ON messages(status, claimed_by)
        WHERE status IN ('sending', 'unknown')""",
    # Daily cap: messages sent since local midnight.
    "CREATE INDEX IF NOT EXISTS ix_messages_sent_at ON messages(sent_at) WHERE sent_at IS NOT NULL",
    # An account's daily cap: its messages sent since local midnight.
    "CREATE INDEX IF NOT EXISTS ix_messages_account_sent ON messages(account, sent_at) WHERE sent_at IS NOT NULL",
    # Failed and unknown messages per account (the API's /metrics), never written by an import.
    """CREATE INDEX IF NOT EXISTS ix_messages_account_settled ON messages(account, status)
        WHERE status = 'failed' OR status = 'unknown' OR status = 'invalid'""",
    # Per-job counts by status, kept by triggers so reading them never touches messages.
    """CREATE TABLE IF NOT EXISTS job_counts (
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        n INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (job_id, status)
    ) WITHOUT ROWID""",
    """CREATE TRIGGER IF NOT EXISTS trg_messages_status AFTER UPDATE OF status ON messages
        WHEN OLD.status <> NEW.status
        BEGIN
            UPDATE job_counts SET n = n - 1 WHERE job_id = OLD.job_id AND status = OLD.status;
            UPDATE job_counts SET n = n + 1 WHERE job_id = NEW.job_id AND status = NEW.status;
        END""",
    """CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        level TEXT NOT NULL DEFAULT 'info',
        kind TEXT NOT NULL,
        job_id INTEGER,
        message_id INTEGER,
        text TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS ix_events_job ON events(job_id, id)",
    """CREATE TABLE IF NOT EXISTS workers (
        id TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        started_at REAL NOT NULL,
        heartbeat_at REAL,
        state TEXT NOT NULL,
        current_message_id INTEGER,
        qr TEXT,
        browser_pids TEXT,
        info TEXT,
        stopped_at REAL,
        account TEXT,
        host TEXT
    )""",
    # The WhatsApp accounts: enabled in the config, their login as their worker last saw
    # it, and the day they first sent (the warm-up counts from it).
    """CREATE TABLE IF NOT EXISTS accounts (
        name TEXT PRIMARY KEY,
        enabled INTEGER NOT NULL DEFAULT 1,
        login TEXT NOT NULL DEFAULT 'unknown',
        login_at REAL,
        first_sent_at REAL,
        updated_at REAL NOT NULL
    )""",
    # A job's accounts; none: any account may send it.
    """CREATE TABLE IF NOT EXISTS job_accounts (
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        account TEXT NOT NULL,
        PRIMARY KEY (job_id, account)
    ) WITHOUT ROWID""",
    # What contacts answered: each incoming message once (by its WhatsApp id in that
    # account's chat), tied to the message of ours it answers.
    """CREATE TABLE IF NOT EXISTS replies (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        phone TEXT NOT NULL,
        wa_id TEXT NOT NULL,
        message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
        job_id INTEGER REFERENCES jobs(id) ON DELETE CASCADE,
        text TEXT,
        kind TEXT NOT NULL DEFAULT 'text',
        attachment_name TEXT,
        at REAL,
        read_at REAL NOT NULL,
        flag TEXT,
        UNIQUE (account, phone, wa_id)
    )""",
    "CREATE INDEX IF NOT EXISTS ix_replies_job ON replies(job_id, phone)",
    """CREATE TABLE IF NOT EXISTS optouts (
        phone TEXT PRIMARY KEY,
        added_at REAL NOT NULL,
        reason TEXT
    )""",
    # The outbox: what other systems hear (webhooks, the alert command), written in the
    # same transaction as the change it reports. `uid` is the id receivers de-duplicate by.
    """CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uid TEXT NOT NULL,
        at REAL NOT NULL,
        event TEXT NOT NULL,
        account TEXT,
        job_id INTEGER,
        message_id INTEGER,
        payload TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS ix_outbox_at ON outbox(at)",
    # Where events go (a webhook, the alert command): outbox rows up to `cursor` have
    # their delivery rows; a new target starts at the newest event.
    """CREATE TABLE IF NOT EXISTS outbox_targets (
        name TEXT PRIMARY KEY,
        label TEXT NOT NULL,
        cursor INTEGER NOT NULL DEFAULT 0,
        seen_at REAL NOT NULL
    )""",
    # One event to one target. A lane (the account, for a webhook) is delivered in order:
    # its next row waits until the one before is done or dead.
    """CREATE TABLE IF NOT EXISTS deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        target TEXT NOT NULL,
        outbox_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
        lane TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at REAL NOT NULL,
        claimed_by TEXT,
        claimed_at REAL,
        last_error TEXT,
        done_at REAL,
        UNIQUE (target, outbox_id)
    )""",
    """CREATE INDEX IF NOT EXISTS ix_deliveries_open ON deliveries(target, lane, outbox_id)
        WHERE status = 'pending' OR status = 'delivering'""",
    "CREATE INDEX IF NOT EXISTS ix_deliveries_dead ON deliveries(target, id) WHERE status = 'dead'",
    "CREATE INDEX IF NOT EXISTS ix_deliveries_outbox ON deliveries(outbox_id)",
    # Small named documents (the supervisor's published state, schema version).
    """CREATE TABLE IF NOT EXISTS kv (
        name TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        updated_at REAL NOT NULL
    )""",
)

# PostgreSQL's counter trigger. The two counter rows are updated in status order: two
# transactions moving messages in opposite directions (a claim, a message given back)
# then lock them in the same order and cannot deadlock.
PG_COUNTS_TRIGGER = (
    """CREATE OR REPLACE FUNCTION wa_job_counts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status < NEW.status THEN
            UPDATE job_counts SET n = n - 1 WHERE job_id = OLD.job_id AND status = OLD.status;
            UPDATE job_counts SET n = n + 1 WHERE job_id = NEW.job_id AND status = NEW.status;
        ELSE
            UPDATE job_counts SET n = n + 1 WHERE job_id = NEW.job_id AND status = NEW.status;
            UPDATE job_counts SET n = n - 1 WHERE job_id = OLD.job_id AND status = OLD.status;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE TRIGGER trg_messages_status AFTER UPDATE OF status ON messages
        FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION wa_job_counts()""",
)
