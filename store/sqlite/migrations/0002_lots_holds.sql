-- 0002: lots, the lots each spend took its points from, holds (pay with
-- points), and the ledger entry each idempotency record wrote.
--
-- Every member-scoped table carries program_id and member_id, and the hot
-- queries filter on both. Times are INTEGER unix microseconds UTC.

-- entries_key replaces entries_by_member (same columns, now unique) so that
-- lots and lot_uses can reference an entry together with its member.
CREATE UNIQUE INDEX entries_key ON entries (program_id, member_id, id);
DROP INDEX entries_by_member;

-- lots are points credited together by one entry, spent and expired on
-- their own: remaining is points less what spends and expiry took.
CREATE TABLE lots (
	program_id   TEXT    NOT NULL,
	member_id    TEXT    NOT NULL,
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	entry_id     INTEGER NOT NULL,
	purchase_id  TEXT    NOT NULL DEFAULT '',
	points       INTEGER NOT NULL CHECK (points BETWEEN 1 AND 4611686018427387904),
	remaining    INTEGER NOT NULL CHECK (remaining BETWEEN 0 AND points),
	available_at INTEGER NOT NULL,
	-- expires_at NULL is never.
	expires_at   INTEGER,
	created_at   INTEGER NOT NULL,
	FOREIGN KEY (program_id, member_id) REFERENCES accounts (program_id, member_id),
	FOREIGN KEY (program_id, member_id, entry_id) REFERENCES entries (program_id, member_id, id)
) STRICT;

CREATE UNIQUE INDEX lots_key ON lots (program_id, member_id, id);
-- OpenLots reads only lots with points left.
CREATE INDEX lots_open ON lots (program_id, member_id) WHERE remaining > 0;
-- The expiry job finds due lots by their expiry.
CREATE INDEX lots_due ON lots (expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;

-- lot_uses records the points a (negative) entry took from each lot.
CREATE TABLE lot_uses (
	program_id TEXT    NOT NULL,
	member_id  TEXT    NOT NULL,
	entry_id   INTEGER NOT NULL,
	lot_id     INTEGER NOT NULL,
	points     INTEGER NOT NULL CHECK (points BETWEEN 1 AND 4611686018427387904),
	PRIMARY KEY (entry_id, lot_id),
	FOREIGN KEY (program_id, member_id, entry_id) REFERENCES entries (program_id, member_id, id),
	FOREIGN KEY (program_id, member_id, lot_id) REFERENCES lots (program_id, member_id, id)
) STRICT;

CREATE INDEX lot_uses_by_lot ON lot_uses (lot_id);

-- holds reserve points at checkout until captured, released or expired. An
-- active hold past expires_at counts as released; its row stays 'active'.
CREATE TABLE holds (
	program_id TEXT    NOT NULL,
	id         TEXT    NOT NULL CHECK (id <> ''),
	member_id  TEXT    NOT NULL,
	till_id    TEXT    NOT NULL,
	points     INTEGER NOT NULL CHECK (points BETWEEN 1 AND 4611686018427387904),
	status     TEXT    NOT NULL CHECK (status IN ('active', 'captured', 'released')),
	captured   INTEGER NOT NULL DEFAULT 0 CHECK (captured BETWEEN 0 AND points),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL CHECK (expires_at >= created_at),
	-- closed_at is NULL while the hold is active.
	closed_at  INTEGER,
	PRIMARY KEY (program_id, id),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id),
	CHECK ((status = 'active') = (closed_at IS NULL))
) STRICT;

CREATE INDEX holds_active ON holds (program_id, member_id) WHERE status = 'active';

-- entry_id is the ledger entry the keyed write wrote; NULL when none.
ALTER TABLE idempotency ADD COLUMN entry_id INTEGER CHECK (entry_id IS NULL OR entry_id > 0);
CREATE INDEX idempotency_by_entry ON idempotency (entry_id) WHERE entry_id IS NOT NULL;

-- The ledger written before lots existed gets them: a lot that never
-- expires for every positive earn, bonus and adjust entry, and the member's
-- spends taken from those lots oldest first, so that each balance equals
-- the points its lots hold.
INSERT INTO lots (program_id, member_id, entry_id, purchase_id, points, remaining, available_at, expires_at, created_at)
SELECT program_id, member_id, id, purchase_id, points, points, created_at, NULL, created_at
FROM entries WHERE points > 0 AND kind IN ('earn', 'bonus', 'adjust')
ORDER BY id;

-- Each lot covers the interval [lo, lo + points) of its member's credited
-- points, each spend the interval [lo, lo + points) of its spent points; a
-- spend takes from a lot what the two share.
INSERT INTO lot_uses (program_id, member_id, entry_id, lot_id, points)
SELECT s.program_id, s.member_id, s.entry_id, c.lot_id,
	min(s.lo + s.points, c.lo + c.points) - max(s.lo, c.lo)
FROM (
	SELECT program_id, member_id, id AS entry_id, -points AS points,
		sum(-points) OVER (PARTITION BY program_id, member_id ORDER BY id) + points AS lo
	FROM entries WHERE points < 0
) s JOIN (
	SELECT program_id, member_id, id AS lot_id, points,
		sum(points) OVER (PARTITION BY program_id, member_id ORDER BY id) - points AS lo
	FROM lots
) c ON c.program_id = s.program_id AND c.member_id = s.member_id
WHERE min(s.lo + s.points, c.lo + c.points) > max(s.lo, c.lo);

UPDATE lots SET remaining = points - coalesce((SELECT sum(u.points) FROM lot_uses u WHERE u.lot_id = lots.id), 0);
