-- 0007: push notifications: members' consents and devices, the queue of
-- messages to them, and the leases that let one replica at a time send.
--
-- Times are INTEGER unix microseconds UTC; NULL is never.

-- consents is append-only: each row is a member granting or withdrawing one
-- purpose, having been shown the text text_version. A member's state for a
-- purpose is their newest row. AUTOINCREMENT keeps seq increasing for good.
CREATE TABLE consents (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	program_id   TEXT    NOT NULL,
	member_id    TEXT    NOT NULL,
	purpose      TEXT    NOT NULL CHECK (purpose <> ''),
	granted      INTEGER NOT NULL CHECK (granted IN (0, 1)),
	text_version TEXT    NOT NULL CHECK (text_version <> ''),
	source       TEXT    NOT NULL CHECK (source <> ''),
	at           INTEGER NOT NULL,
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id)
) STRICT;

-- A member's records, oldest first.
CREATE INDEX consents_by_member ON consents (program_id, member_id, seq);

-- devices are the app installations members receive pushes on. An FCM
-- token belongs to one member of a program at a time: registering it for
-- another member moves the row.
CREATE TABLE devices (
	program_id    TEXT    NOT NULL,
	token         TEXT    NOT NULL CHECK (token <> ''),
	member_id     TEXT    NOT NULL,
	platform      TEXT    NOT NULL CHECK (platform <> ''),
	locale        TEXT    NOT NULL,
	app_version   TEXT    NOT NULL,
	-- time_zone '' is the program's.
	time_zone     TEXT    NOT NULL,
	registered_at INTEGER NOT NULL,
	seen_at       INTEGER NOT NULL,
	PRIMARY KEY (program_id, token),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id)
) STRICT;

-- A member's devices, most recently seen first.
CREATE INDEX devices_by_member ON devices (program_id, member_id, seen_at DESC, token);

-- push_messages is the queue of notifications, one row per message to a
-- member (on all their devices). key is unique per program, so a message
-- computed twice is queued once. title and body are loyalty.Text as JSON;
-- data is the payload, a JSON object of strings. Only pending rows change.
-- There is no foreign key to members: the queue is notify's, which names
-- members but neither writes nor locks them.
CREATE TABLE push_messages (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	program_id TEXT    NOT NULL,
	member_id  TEXT    NOT NULL,
	kind       TEXT    NOT NULL CHECK (kind <> ''),
	key        TEXT    NOT NULL CHECK (key <> ''),
	title      TEXT    NOT NULL CHECK (json_valid(title)),
	body       TEXT    NOT NULL CHECK (json_valid(body)),
	data       TEXT    NOT NULL CHECK (json_valid(data)),
	digest     TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	not_before INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	state      TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'skipped', 'expired', 'failed')),
	attempts   INTEGER NOT NULL CHECK (attempts >= 0),
	-- sent_at is NULL until the message is sent.
	sent_at    INTEGER,
	reason     TEXT    NOT NULL,
	UNIQUE (program_id, key)
) STRICT;

-- Due: the pending messages, soonest first.
CREATE INDEX push_messages_due ON push_messages (not_before, id) WHERE state = 'pending';
-- SentSince and SentDigest: a member's sent messages by time.
CREATE INDEX push_messages_sent ON push_messages (program_id, member_id, sent_at) WHERE state = 'sent';
-- Messages: a member's messages, newest first.
CREATE INDEX push_messages_by_member ON push_messages (program_id, member_id, id);

-- leases name the replica (holder) that may do a job alone until until.
CREATE TABLE leases (
	name   TEXT    NOT NULL PRIMARY KEY CHECK (name <> ''),
	holder TEXT    NOT NULL CHECK (holder <> ''),
	until  INTEGER NOT NULL
) STRICT;

-- ExpiringPoints: a program's members' open lots that expire, by member and
-- expiry.
CREATE INDEX lots_expiring ON lots (program_id, member_id, expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;
