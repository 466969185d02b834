"""Schema of the shared database. All DDL of the project lives here, in SQLite's
spelling; `dialect.Postgres.ddl` rewrites the types for PostgreSQL and swaps the
trigger for PG_COUNTS_TRIGGER. One version number and one upgrade path for both."""

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # A lost "sent" mark becomes a duplicate message: fsync every commit.
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)

SCHEMA_VERSION = 7

# A queued message's lane: job_id * LANE_JOB + known slot * LANE_SLOT + zone set. The
# claim takes the first message of the lanes open to an account now (`store.lanes`),
# and lanes sort jobs oldest first: the queue index is (lane, id).
LANE_JOB = 2**32
LANE_SLOT = 2**16
SLOT_BITS = (LANE_JOB - 1) ^ (LANE_SLOT - 1)  # 0xFFFF0000: the slot's bits of a lane

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
    # 7: account health and local hours: the accounts' limits, slots and unanswered
    # counters, each job's window and zone, each message's zone set and lane, the known
    # contacts (created by the DDL), and the counters split by zone set. A database from
    # before version 3 has no accounts or job_counts table yet (the DDL makes them after
    # these steps): their old shape is made first.
    7: (
        """CREATE TABLE IF NOT EXISTS accounts (name TEXT PRIMARY KEY, enabled INTEGER NOT NULL DEFAULT 1,
            login TEXT NOT NULL DEFAULT 'unknown', login_at REAL, first_sent_at REAL, updated_at REAL NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS job_counts (job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            status TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (job_id, status)) WITHOUT ROWID""",
        "ALTER TABLE jobs ADD COLUMN window_start INTEGER",
        "ALTER TABLE jobs ADD COLUMN window_end INTEGER",
        "ALTER TABLE jobs ADD COLUMN timezone TEXT",
        "ALTER TABLE messages ADD COLUMN tz INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE messages ADD COLUMN lane INTEGER NOT NULL DEFAULT 0",
        f"UPDATE messages SET lane = job_id * {LANE_JOB}",
        "ALTER TABLE accounts ADD COLUMN slot INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE accounts ADD COLUMN limit_state TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE accounts ADD COLUMN limit_until REAL",
        "ALTER TABLE accounts ADD COLUMN limit_reason TEXT",
        "ALTER TABLE accounts ADD COLUMN limit_since REAL",
        "ALTER TABLE accounts ADD COLUMN unanswered INTEGER",
        "ALTER TABLE accounts ADD COLUMN unanswered_cap INTEGER",
        "ALTER TABLE accounts ADD COLUMN unanswered_at REAL",
        "ALTER TABLE accounts ADD COLUMN new_day REAL",
        "ALTER TABLE accounts ADD COLUMN new_sent INTEGER NOT NULL DEFAULT 0",
        "UPDATE accounts SET slot = (SELECT count(*) FROM accounts AS b WHERE b.name <= accounts.name)",
        "DROP TRIGGER IF EXISTS trg_messages_status",
        """CREATE TABLE job_counts_v7 (job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            status TEXT NOT NULL, tz INTEGER NOT NULL DEFAULT 0, n INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (job_id, status, tz)) WITHOUT ROWID""",
        "INSERT INTO job_counts_v7(job_id, status, tz, n) SELECT job_id, status, 0, n FROM job_counts",
        "DROP TABLE job_counts",
        "ALTER TABLE job_counts_v7 RENAME TO job_counts",
    ),
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
        total INTEGER NOT NULL DEFAULT 0,
        -- each contact's local hours [start, end) in minutes of the day (NULL: any time), and
        -- the job's IANA zone (numbers without one of their own are in it)
        window_start INTEGER,
        window_end INTEGER,
        timezone TEXT
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
        -- the contact's zone set (job_zones.tz of its job; 0: none, sent any time)
        tz INTEGER NOT NULL DEFAULT 0,
        -- where the claim finds it: job_id * 2^32 + slot of an account that knows the contact
        -- (0: nobody) * 2^16 + its zone set when the job has a window (else 0)
        lane INTEGER NOT NULL DEFAULT 0,
        UNIQUE (job_id, phone)
    )""",
    # The queue: only claimable rows, in claim order. Keeps a claim O(log n) at 1M rows.
    """CREATE INDEX IF NOT EXISTS ix_messages_queue ON messages(job_id, id)
        WHERE status IN ('pending', 'retrying')""",
    # The claim's queue: claimable rows by lane (job, who knows the contact, zone set),
    # in import order within a lane. A claim is one ordered range scan of the lanes open
    # to the claiming account now, at any size of the queue.
    """CREATE INDEX IF NOT EXISTS ix_messages_queue_lanes ON messages(lane, id)
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
    # Queued messages (pending, retrying) of a job with a window are counted per zone set
    # (`tz`, the lane's last 16 bits): how many wait for their morning is a sum of rows.
    # Every other count has tz 0. The row a message enters is created if missing.
    """CREATE TABLE IF NOT EXISTS job_counts (
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        tz INTEGER NOT NULL DEFAULT 0,
        n INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (job_id, status, tz)
    ) WITHOUT ROWID""",
    """CREATE TRIGGER IF NOT EXISTS trg_messages_status AFTER UPDATE OF status ON messages
        WHEN OLD.status <> NEW.status
        BEGIN
            UPDATE job_counts SET n = n - 1 WHERE job_id = OLD.job_id AND status = OLD.status
               AND tz = (CASE WHEN OLD.status IN ('pending', 'retrying') THEN OLD.lane & 65535 ELSE 0 END);
            INSERT INTO job_counts(job_id, status, tz, n) VALUES (NEW.job_id, NEW.status,
                CASE WHEN NEW.status IN ('pending', 'retrying') THEN NEW.lane & 65535 ELSE 0 END, 1)
                ON CONFLICT(job_id, status, tz) DO UPDATE SET n = n + 1;
        END""",
    # A job's zone sets: the IANA zones (space-separated) of its contacts' numbers, by
    # the number its messages hold (`messages.tz`), furthest east first.
    """CREATE TABLE IF NOT EXISTS job_zones (
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        tz INTEGER NOT NULL,
        zones TEXT NOT NULL,
        PRIMARY KEY (job_id, tz)
    ) WITHOUT ROWID""",
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
        updated_at REAL NOT NULL,
        -- its number in lanes (1, 2, ...: messages to contacts it knows are in its lanes)
        slot INTEGER NOT NULL DEFAULT 0,
        -- a limit WhatsApp put on it ('' none, limited_new, restricted, banned), until when,
        -- why (what the page said) and since when (states.LIMIT_MOVES)
        limit_state TEXT NOT NULL DEFAULT '',
        limit_until REAL,
        limit_reason TEXT,
        limit_since REAL,
        -- WhatsApp's count of its unanswered messages to new people, and the cap, as read
        unanswered INTEGER,
        unanswered_cap INTEGER,
        unanswered_at REAL,
        -- new contacts it sent to on the local day starting at new_day (the claim's budget;
        -- known_contacts rows with source 'sent' are the record)
        new_day REAL,
        new_sent INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS ix_accounts_slot ON accounts(slot)",
    # Contacts an account knows: a chat exists (its chat list, a chat's history, a message
    # it sent). `source` says how it was learnt ('sent': a new contact it wrote to, which
    # counts toward the day's new contacts).
    """CREATE TABLE IF NOT EXISTS known_contacts (
        account TEXT NOT NULL,
        phone TEXT NOT NULL,
        source TEXT NOT NULL,
        since REAL NOT NULL,
        PRIMARY KEY (account, phone)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS ix_known_sent ON known_contacts(account, since) WHERE source = 'sent'",
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
# then lock them in the same order and cannot deadlock. A message's zone set is part of
# both rows' keys (never a third row), so the order argument is unchanged.
PG_COUNTS_TRIGGER = (
    """CREATE OR REPLACE FUNCTION wa_job_counts() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        old_tz BIGINT := CASE WHEN OLD.status IN ('pending', 'retrying') THEN OLD.lane & 65535 ELSE 0 END;
        new_tz BIGINT := CASE WHEN NEW.status IN ('pending', 'retrying') THEN NEW.lane & 65535 ELSE 0 END;
    BEGIN
        IF OLD.status < NEW.status THEN
            UPDATE job_counts SET n = n - 1 WHERE job_id = OLD.job_id AND status = OLD.status AND tz = old_tz;
        END IF;
        UPDATE job_counts SET n = n + 1 WHERE job_id = NEW.job_id AND status = NEW.status AND tz = new_tz;
        IF NOT FOUND THEN  -- a row no message was in yet (an upsert each time costs twice an update)
            INSERT INTO job_counts(job_id, status, tz, n) VALUES (NEW.job_id, NEW.status, new_tz, 1)
                ON CONFLICT (job_id, status, tz) DO UPDATE SET n = job_counts.n + 1;
        END IF;
        IF OLD.status >= NEW.status THEN
            UPDATE job_counts SET n = n - 1 WHERE job_id = OLD.job_id AND status = OLD.status AND tz = old_tz;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE TRIGGER trg_messages_status AFTER UPDATE OF status ON messages
        FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION wa_job_counts()""",
)
