-- 0001: programs, catalog, tills, members, their ledger, lots and holds.
--
-- Times are TIMESTAMPTZ (microseconds, as Go writes them). Money is integer
-- minor units and points are BIGINT; there are no floating-point columns.
-- JSON documents are JSONB; hashes and stored results are BYTEA. Identifiers
-- compare byte-wise (COLLATE "C"), as in the SQLite store, whatever the
-- database's collation.
--
-- Distribution: every member-scoped table carries program_id and member_id,
-- and the hot statements filter on both. On Citus or YugabyteDB the
-- distribution column would be the member id (members.id, member_id
-- elsewhere), with the member tables co-located: accounts, entries, lots and
-- lot_uses have keys that start with (program_id, member_id), and every
-- foreign key between member tables includes both. programs, rewards and
-- tills would be reference tables. What would have to change: purchases,
-- vouchers and holds are keyed and looked up by (program_id, id) alone, and
-- the card number and Firebase uid of members and the receipt id of
-- purchases are unique across members; those need member-bearing keys or
-- lookup tables. idempotency is keyed by caller, so a till's keyed write
-- spans two shards.

CREATE TABLE programs (
	id     TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (id <> ''),
	-- config is the whole loyalty.Program.
	config JSONB NOT NULL
);

CREATE TABLE rewards (
	program_id  TEXT COLLATE "C" NOT NULL REFERENCES programs (id),
	id          TEXT COLLATE "C" NOT NULL CHECK (id <> ''),
	name        JSONB   NOT NULL,
	description JSONB   NOT NULL,
	cost        BIGINT  NOT NULL CHECK (cost > 0),
	-- stock NULL is unlimited.
	stock       BIGINT  CHECK (stock IS NULL OR stock >= 0),
	active      BOOLEAN NOT NULL,
	PRIMARY KEY (program_id, id)
);

CREATE INDEX rewards_by_cost ON rewards (program_id, cost, id);

CREATE TABLE tills (
	id         TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (id <> ''),
	program_id TEXT COLLATE "C" NOT NULL REFERENCES programs (id),
	name       TEXT  NOT NULL,
	-- key_hash is the SHA-256 hash of the till's API key.
	key_hash   BYTEA NOT NULL CHECK (octet_length(key_hash) = 32),
	CONSTRAINT tills_key_hash_key UNIQUE (key_hash)
);

CREATE TABLE members (
	program_id   TEXT COLLATE "C" NOT NULL REFERENCES programs (id),
	id           TEXT COLLATE "C" NOT NULL CHECK (id <> ''),
	firebase_uid TEXT COLLATE "C" NOT NULL,
	card_number  TEXT COLLATE "C" NOT NULL CHECK (card_number <> ''),
	locale       TEXT NOT NULL,
	created_at   TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (program_id, id),
	CONSTRAINT members_uid_key UNIQUE (program_id, firebase_uid),
	-- Card numbers are unique across programs: a till scans only the number.
	CONSTRAINT members_card_key UNIQUE (card_number)
);

CREATE TABLE accounts (
	program_id TEXT COLLATE "C" NOT NULL,
	member_id  TEXT COLLATE "C" NOT NULL,
	balance    BIGINT NOT NULL CHECK (balance BETWEEN 0 AND 4611686018427387904),
	version    BIGINT NOT NULL CHECK (version >= 0),
	updated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (program_id, member_id),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id)
);

-- entries is the append-only ledger. Identity ids only grow, so a page
-- cursor (an entry id) never points at a reused id.
CREATE TABLE entries (
	program_id    TEXT COLLATE "C" NOT NULL,
	member_id     TEXT COLLATE "C" NOT NULL,
	id            BIGINT GENERATED ALWAYS AS IDENTITY,
	kind          TEXT   NOT NULL CHECK (kind <> ''),
	points        BIGINT NOT NULL CHECK (points BETWEEN -4611686018427387904 AND 4611686018427387904),
	balance_after BIGINT NOT NULL CHECK (balance_after BETWEEN 0 AND 4611686018427387904),
	created_at    TIMESTAMPTZ NOT NULL,
	purchase_id   TEXT COLLATE "C" NOT NULL DEFAULT '',
	reward_id     TEXT COLLATE "C" NOT NULL DEFAULT '',
	detail        JSONB  NOT NULL,
	PRIMARY KEY (program_id, member_id, id),
	FOREIGN KEY (program_id, member_id) REFERENCES accounts (program_id, member_id)
);

CREATE TABLE purchases (
	program_id      TEXT COLLATE "C" NOT NULL,
	id              TEXT COLLATE "C" NOT NULL CHECK (id <> ''),
	member_id       TEXT COLLATE "C" NOT NULL,
	till_id         TEXT COLLATE "C" NOT NULL,
	receipt_id      TEXT COLLATE "C" NOT NULL DEFAULT '',
	amount_minor    BIGINT NOT NULL CHECK (amount_minor >= 0),
	currency        TEXT   NOT NULL CHECK (length(currency) = 3),
	points          BIGINT NOT NULL CHECK (points >= 0),
	returned_minor  BIGINT NOT NULL DEFAULT 0 CHECK (returned_minor BETWEEN 0 AND amount_minor),
	reversed_points BIGINT NOT NULL DEFAULT 0 CHECK (reversed_points BETWEEN 0 AND points),
	lines           JSONB  NOT NULL,
	created_at      TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (program_id, id),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id)
);

-- A receipt is posted once per program; purchases without one are not
-- checked.
CREATE UNIQUE INDEX purchases_by_receipt ON purchases (program_id, receipt_id) WHERE receipt_id <> '';
CREATE INDEX purchases_by_member ON purchases (program_id, member_id, created_at);

CREATE TABLE vouchers (
	program_id  TEXT COLLATE "C" NOT NULL,
	code        TEXT COLLATE "C" NOT NULL CHECK (code <> ''),
	member_id   TEXT COLLATE "C" NOT NULL,
	reward_id   TEXT COLLATE "C" NOT NULL,
	reward_name JSONB  NOT NULL,
	cost        BIGINT NOT NULL CHECK (cost >= 0),
	status      TEXT   NOT NULL CHECK (status <> ''),
	issued_at   TIMESTAMPTZ NOT NULL,
	expires_at  TIMESTAMPTZ NOT NULL CHECK (expires_at >= issued_at),
	-- redeemed_at is NULL until the voucher is used.
	redeemed_at TIMESTAMPTZ,
	redeemed_by TEXT COLLATE "C" NOT NULL DEFAULT '',
	-- seq orders vouchers issued in the same microsecond.
	seq         BIGINT GENERATED ALWAYS AS IDENTITY,
	PRIMARY KEY (program_id, code),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id),
	CHECK ((status = 'redeemed') = (redeemed_at IS NOT NULL))
);

CREATE INDEX vouchers_by_member ON vouchers (program_id, member_id, issued_at, seq);

-- idempotency remembers the first result of every keyed write, and the
-- ledger entry it wrote (NULL: none).
CREATE TABLE idempotency (
	program_id  TEXT COLLATE "C" NOT NULL,
	caller      TEXT COLLATE "C" NOT NULL,
	key         TEXT COLLATE "C" NOT NULL,
	fingerprint BYTEA  NOT NULL CHECK (octet_length(fingerprint) = 32),
	result      BYTEA  NOT NULL,
	entry_id    BIGINT CHECK (entry_id IS NULL OR entry_id > 0),
	created_at  TIMESTAMPTZ NOT NULL,
	CONSTRAINT idempotency_pkey PRIMARY KEY (program_id, caller, key)
);

CREATE INDEX idempotency_by_entry ON idempotency (entry_id) WHERE entry_id IS NOT NULL;

-- lots are points credited together by one entry, spent and expired on
-- their own: remaining is points less what spends and expiry took.
CREATE TABLE lots (
	program_id   TEXT COLLATE "C" NOT NULL,
	member_id    TEXT COLLATE "C" NOT NULL,
	id           BIGINT GENERATED ALWAYS AS IDENTITY,
	entry_id     BIGINT NOT NULL,
	purchase_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
	points       BIGINT NOT NULL CHECK (points BETWEEN 1 AND 4611686018427387904),
	remaining    BIGINT NOT NULL CHECK (remaining BETWEEN 0 AND points),
	available_at TIMESTAMPTZ NOT NULL,
	-- expires_at NULL is never.
	expires_at   TIMESTAMPTZ,
	created_at   TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (program_id, member_id, id),
	FOREIGN KEY (program_id, member_id) REFERENCES accounts (program_id, member_id),
	FOREIGN KEY (program_id, member_id, entry_id) REFERENCES entries (program_id, member_id, id)
);

-- OpenLots reads only lots with points left.
CREATE INDEX lots_open ON lots (program_id, member_id) WHERE remaining > 0;
-- The expiry job finds due lots by their expiry.
CREATE INDEX lots_due ON lots (expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;

-- lot_uses records the points a (negative) entry took from each lot.
CREATE TABLE lot_uses (
	program_id TEXT COLLATE "C" NOT NULL,
	member_id  TEXT COLLATE "C" NOT NULL,
	entry_id   BIGINT NOT NULL,
	lot_id     BIGINT NOT NULL,
	points     BIGINT NOT NULL CHECK (points BETWEEN 1 AND 4611686018427387904),
	PRIMARY KEY (program_id, member_id, entry_id, lot_id),
	FOREIGN KEY (program_id, member_id, entry_id) REFERENCES entries (program_id, member_id, id),
	FOREIGN KEY (program_id, member_id, lot_id) REFERENCES lots (program_id, member_id, id)
);

CREATE INDEX lot_uses_by_lot ON lot_uses (program_id, member_id, lot_id);

-- holds reserve points at checkout until captured, released or expired. An
-- active hold past expires_at counts as released; its row stays 'active'.
CREATE TABLE holds (
	program_id TEXT COLLATE "C" NOT NULL,
	id         TEXT COLLATE "C" NOT NULL CHECK (id <> ''),
	member_id  TEXT COLLATE "C" NOT NULL,
	till_id    TEXT COLLATE "C" NOT NULL,
	points     BIGINT NOT NULL CHECK (points BETWEEN 1 AND 4611686018427387904),
	status     TEXT   NOT NULL CHECK (status IN ('active', 'captured', 'released')),
	captured   BIGINT NOT NULL DEFAULT 0 CHECK (captured BETWEEN 0 AND points),
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL CHECK (expires_at >= created_at),
	-- closed_at is NULL while the hold is active.
	closed_at  TIMESTAMPTZ,
	PRIMARY KEY (program_id, id),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id),
	CHECK ((status = 'active') = (closed_at IS NULL))
);

CREATE INDEX holds_active ON holds (program_id, member_id) WHERE status = 'active';
