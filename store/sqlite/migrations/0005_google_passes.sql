-- 0005: Google Wallet passes and the notifying updates of them.
--
-- Times are INTEGER unix microseconds UTC; NULL is never.

-- google_passes holds a member's Google Wallet loyalty object: the id Google
-- knows it by, whether it is in the member's wallet as of the latest
-- callback (saved_as_of, the callback's expiry, orders callbacks), and what
-- it showed when last written.
CREATE TABLE google_passes (
	program_id    TEXT    NOT NULL,
	member_id     TEXT    NOT NULL,
	object_id     TEXT    NOT NULL CHECK (object_id <> ''),
	created_at    INTEGER NOT NULL,
	saved         INTEGER NOT NULL DEFAULT 0 CHECK (saved IN (0, 1)),
	saved_as_of   INTEGER,
	synced_at     INTEGER,
	tier          TEXT    NOT NULL DEFAULT '',
	expiry_warned INTEGER,
	PRIMARY KEY (program_id, member_id),
	UNIQUE (object_id),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id)
) STRICT;

-- google_notifications are the notifying updates of a pass, which Google
-- limits per window of time; rows older than the window are removed as new
-- ones come. Several may share a time, hence the id.
CREATE TABLE google_notifications (
	id         INTEGER PRIMARY KEY,
	program_id TEXT    NOT NULL,
	member_id  TEXT    NOT NULL,
	at         INTEGER NOT NULL,
	FOREIGN KEY (program_id, member_id) REFERENCES google_passes (program_id, member_id) ON DELETE CASCADE
) STRICT;

-- A pass's notifications in a window; also the cascade's lookup.
CREATE INDEX google_notifications_by_pass ON google_notifications (program_id, member_id, at);
