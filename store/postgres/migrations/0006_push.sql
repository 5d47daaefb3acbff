-- 0006: push notifications: members' consents and devices, the queue of
-- messages to them, and the leases that let one replica at a time send.
--
-- NULL times are never.
--
-- Distribution: consents, devices and push_messages are member tables and
-- would be co-located with accounts; devices are keyed by (program_id,
-- token) and push_messages are unique by (program_id, key), across
-- members, and so would need lookup tables. leases would be a reference
-- table.

-- consents is append-only: each row is a member granting or withdrawing one
-- purpose, having been shown the text text_version. A member's state for a
-- purpose is their newest row.
CREATE TABLE consents (
	program_id   TEXT COLLATE "C" NOT NULL,
	member_id    TEXT COLLATE "C" NOT NULL,
	seq          BIGINT GENERATED ALWAYS AS IDENTITY,
	purpose      TEXT COLLATE "C" NOT NULL CHECK (purpose <> ''),
	granted      BOOLEAN NOT NULL,
	text_version TEXT NOT NULL CHECK (text_version <> ''),
	source       TEXT NOT NULL CHECK (source <> ''),
	at           TIMESTAMPTZ NOT NULL,
	-- A member's records, oldest first.
	CONSTRAINT consents_pkey PRIMARY KEY (program_id, member_id, seq),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id)
);

-- devices are the app installations members receive pushes on. An FCM
-- token belongs to one member of a program at a time: registering it for
-- another member moves the row.
CREATE TABLE devices (
	program_id    TEXT COLLATE "C" NOT NULL,
	token         TEXT COLLATE "C" NOT NULL CHECK (token <> ''),
	member_id     TEXT COLLATE "C" NOT NULL,
	platform      TEXT NOT NULL CHECK (platform <> ''),
	locale        TEXT NOT NULL,
	app_version   TEXT NOT NULL,
	-- time_zone '' is the program's.
	time_zone     TEXT NOT NULL,
	registered_at TIMESTAMPTZ NOT NULL,
	seen_at       TIMESTAMPTZ NOT NULL,
	CONSTRAINT devices_pkey PRIMARY KEY (program_id, token),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id)
);

-- A member's devices, most recently seen first.
CREATE INDEX devices_by_member ON devices (program_id, member_id, seen_at DESC, token);

-- push_messages is the queue of notifications, one row per message to a
-- member (on all their devices). key is unique per program, so a message
-- computed twice is queued once. title and body are loyalty.Text; data is
-- the payload, an object of strings. Only pending rows change. There is no
-- foreign key to members: the queue is notify's, which names members but
-- neither writes nor locks them.
CREATE TABLE push_messages (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	program_id TEXT COLLATE "C" NOT NULL,
	member_id  TEXT COLLATE "C" NOT NULL,
	kind       TEXT COLLATE "C" NOT NULL CHECK (kind <> ''),
	key        TEXT COLLATE "C" NOT NULL CHECK (key <> ''),
	title      JSONB NOT NULL,
	body       JSONB NOT NULL,
	data       JSONB NOT NULL,
	digest     TEXT COLLATE "C" NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	not_before TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	state      TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'skipped', 'expired', 'failed')),
	attempts   INTEGER NOT NULL CHECK (attempts >= 0),
	-- sent_at is NULL until the message is sent.
	sent_at    TIMESTAMPTZ,
	reason     TEXT NOT NULL,
	CONSTRAINT push_messages_key_key UNIQUE (program_id, key)
);

-- Due: the pending messages, soonest first.
CREATE INDEX push_messages_due ON push_messages (not_before, id) WHERE state = 'pending';
-- SentSince and SentDigest: a member's sent messages by time.
CREATE INDEX push_messages_sent ON push_messages (program_id, member_id, sent_at) WHERE state = 'sent';
-- Messages: a member's messages, newest first.
CREATE INDEX push_messages_by_member ON push_messages (program_id, member_id, id);

-- leases name the replica (holder) that may do a job alone until until.
CREATE TABLE leases (
	name   TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (name <> ''),
	holder TEXT COLLATE "C" NOT NULL CHECK (holder <> ''),
	until  TIMESTAMPTZ NOT NULL
);

-- ExpiringPoints: a program's members' open lots that expire, by member and
-- expiry.
CREATE INDEX lots_expiring ON lots (program_id, member_id, expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;
