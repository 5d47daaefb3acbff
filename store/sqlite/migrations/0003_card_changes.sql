-- 0003: the account version each ledger entry left, and the outbox of card
-- changes.
--
-- Times are INTEGER unix microseconds UTC.

-- version is the account's version right after the entry, so that an app
-- that saw one version can fetch the entries written since.
ALTER TABLE entries ADD COLUMN version INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0);

-- The ledger written before versions were recorded gets them from the
-- account: the newest entry the account's version, each older one one less.
-- Holds moved versions too, so an old entry may get a higher version than it
-- left, never a lower one; no app has seen a version yet, so no app misses
-- an entry or sees one twice.
UPDATE entries SET version = v.version
FROM (
	SELECT e.id,
		max(a.version - (row_number() OVER (PARTITION BY e.program_id, e.member_id ORDER BY e.id DESC) - 1), 0) AS version
	FROM entries e JOIN accounts a ON a.program_id = e.program_id AND a.member_id = e.member_id
) v
WHERE v.id = entries.id;

-- EntriesSince reads a member's entries above a version.
CREATE INDEX entries_by_version ON entries (program_id, member_id, version);

-- card_changes is the outbox: every committed change of a card, written in
-- the transaction of the change, until a dispatcher has delivered it. It is
-- a queue, not part of the ledger, so it references nothing. payload is the
-- loyalty.CardChange as JSON, without its seq. created_at is the Service's
-- time of the change; claimed_until is NULL until a dispatcher claims the
-- row, and a claim that has run out counts as none. Delivered rows are
-- deleted, so the table stays small and a scan in seq order finds the next
-- rows to deliver.
CREATE TABLE card_changes (
	seq           INTEGER PRIMARY KEY AUTOINCREMENT,
	program_id    TEXT    NOT NULL,
	member_id     TEXT    NOT NULL,
	version       INTEGER NOT NULL CHECK (version >= 0),
	payload       TEXT    NOT NULL CHECK (json_valid(payload)),
	created_at    INTEGER NOT NULL,
	claimed_until INTEGER
) STRICT;
