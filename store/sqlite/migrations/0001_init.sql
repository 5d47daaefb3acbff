-- 0001: programs, catalog, tills, members and their ledger.
--
-- Every member-scoped table carries program_id and member_id, and the hot
-- queries filter on both, so the schema can later be distributed by member.
-- Times are INTEGER unix microseconds UTC. Money is integer minor units and
-- points are integers; there are no floating-point columns.

CREATE TABLE programs (
	id     TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
	-- config is the whole loyalty.Program as JSON.
	config TEXT NOT NULL CHECK (json_valid(config))
) STRICT;

CREATE TABLE rewards (
	program_id  TEXT    NOT NULL REFERENCES programs (id),
	id          TEXT    NOT NULL CHECK (id <> ''),
	name        TEXT    NOT NULL CHECK (json_valid(name)),
	description TEXT    NOT NULL CHECK (json_valid(description)),
	cost        INTEGER NOT NULL CHECK (cost > 0),
	-- stock NULL is unlimited.
	stock       INTEGER CHECK (stock IS NULL OR stock >= 0),
	active      INTEGER NOT NULL CHECK (active IN (0, 1)),
	PRIMARY KEY (program_id, id)
) STRICT;

CREATE INDEX rewards_by_cost ON rewards (program_id, cost, id);

CREATE TABLE tills (
	id         TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
	program_id TEXT NOT NULL REFERENCES programs (id),
	name       TEXT NOT NULL,
	-- key_hash is the SHA-256 hash of the till's API key.
	key_hash   BLOB NOT NULL UNIQUE CHECK (length(key_hash) = 32)
) STRICT;

CREATE TABLE members (
	program_id   TEXT    NOT NULL REFERENCES programs (id),
	id           TEXT    NOT NULL CHECK (id <> ''),
	firebase_uid TEXT    NOT NULL,
	card_number  TEXT    NOT NULL CHECK (card_number <> ''),
	locale       TEXT    NOT NULL,
	created_at   INTEGER NOT NULL,
	PRIMARY KEY (program_id, id),
	UNIQUE (program_id, firebase_uid),
	-- Card numbers are unique across programs: a till scans only the number.
	UNIQUE (card_number)
) STRICT;

CREATE TABLE accounts (
	program_id TEXT    NOT NULL,
	member_id  TEXT    NOT NULL,
	balance    INTEGER NOT NULL CHECK (balance BETWEEN 0 AND 4611686018427387904),
	version    INTEGER NOT NULL CHECK (version >= 0),
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (program_id, member_id),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id)
) STRICT;

-- entries is the append-only ledger. AUTOINCREMENT keeps ids increasing for
-- good, so a page cursor (an entry id) never points at a reused id.
CREATE TABLE entries (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	program_id    TEXT    NOT NULL,
	member_id     TEXT    NOT NULL,
	kind          TEXT    NOT NULL CHECK (kind <> ''),
	points        INTEGER NOT NULL CHECK (points BETWEEN -4611686018427387904 AND 4611686018427387904),
	balance_after INTEGER NOT NULL CHECK (balance_after BETWEEN 0 AND 4611686018427387904),
	created_at    INTEGER NOT NULL,
	purchase_id   TEXT    NOT NULL DEFAULT '',
	reward_id     TEXT    NOT NULL DEFAULT '',
	detail        TEXT    NOT NULL CHECK (json_valid(detail)),
	FOREIGN KEY (program_id, member_id) REFERENCES accounts (program_id, member_id)
) STRICT;

CREATE INDEX entries_by_member ON entries (program_id, member_id, id);

CREATE TABLE purchases (
	program_id      TEXT    NOT NULL,
	id              TEXT    NOT NULL CHECK (id <> ''),
	member_id       TEXT    NOT NULL,
	till_id         TEXT    NOT NULL,
	receipt_id      TEXT    NOT NULL DEFAULT '',
	amount_minor    INTEGER NOT NULL CHECK (amount_minor >= 0),
	currency        TEXT    NOT NULL CHECK (length(currency) = 3),
	points          INTEGER NOT NULL CHECK (points >= 0),
	returned_minor  INTEGER NOT NULL DEFAULT 0 CHECK (returned_minor BETWEEN 0 AND amount_minor),
	reversed_points INTEGER NOT NULL DEFAULT 0 CHECK (reversed_points BETWEEN 0 AND points),
	lines           TEXT    NOT NULL CHECK (json_valid(lines)),
	created_at      INTEGER NOT NULL,
	PRIMARY KEY (program_id, id),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id)
) STRICT;

-- A receipt is posted once per program; purchases without one are not
-- checked.
CREATE UNIQUE INDEX purchases_by_receipt ON purchases (program_id, receipt_id) WHERE receipt_id <> '';
CREATE INDEX purchases_by_member ON purchases (program_id, member_id, created_at);

CREATE TABLE vouchers (
	program_id  TEXT    NOT NULL,
	code        TEXT    NOT NULL CHECK (code <> ''),
	member_id   TEXT    NOT NULL,
	reward_id   TEXT    NOT NULL,
	reward_name TEXT    NOT NULL CHECK (json_valid(reward_name)),
	cost        INTEGER NOT NULL CHECK (cost >= 0),
	status      TEXT    NOT NULL CHECK (status <> ''),
	issued_at   INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL CHECK (expires_at >= issued_at),
	-- redeemed_at is NULL until the voucher is used.
	redeemed_at INTEGER,
	redeemed_by TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (program_id, code),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id),
	CHECK ((status = 'redeemed') = (redeemed_at IS NOT NULL))
) STRICT;

CREATE INDEX vouchers_by_member ON vouchers (program_id, member_id, issued_at);

-- idempotency remembers the first result of every keyed write.
CREATE TABLE idempotency (
	program_id  TEXT    NOT NULL,
	caller      TEXT    NOT NULL,
	key         TEXT    NOT NULL,
	fingerprint BLOB    NOT NULL CHECK (length(fingerprint) = 32),
	result      BLOB    NOT NULL,
	created_at  INTEGER NOT NULL,
	PRIMARY KEY (program_id, caller, key)
) STRICT;
