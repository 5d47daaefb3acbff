-- 0004: Google Wallet passes and the notifying updates of them.
--
-- NULL times are never.
--
-- Distribution: both are member tables keyed by (program_id, member_id, …)
-- and would be co-located with accounts; google_passes's object_id is
-- unique across members, like a card number, and so would need a lookup
-- table.

-- google_passes holds a member's Google Wallet loyalty object: the id Google
-- knows it by, whether it is in the member's wallet as of the latest
-- callback (saved_as_of, the callback's expiry, orders callbacks), and what
-- it showed when last written.
CREATE TABLE google_passes (
	program_id    TEXT COLLATE "C" NOT NULL,
	member_id     TEXT COLLATE "C" NOT NULL,
	object_id     TEXT COLLATE "C" NOT NULL CHECK (object_id <> ''),
	created_at    TIMESTAMPTZ NOT NULL,
	saved         BOOLEAN NOT NULL DEFAULT false,
	saved_as_of   TIMESTAMPTZ,
	synced_at     TIMESTAMPTZ,
	tier          TEXT NOT NULL DEFAULT '',
	expiry_warned TIMESTAMPTZ,
	CONSTRAINT google_passes_pkey PRIMARY KEY (program_id, member_id),
	CONSTRAINT google_passes_object_key UNIQUE (object_id),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id)
);

-- google_notifications are the notifying updates of a pass, which Google
-- limits per window of time; rows older than the window are removed as new
-- ones come. Several may share a time, hence the id.
CREATE TABLE google_notifications (
	program_id TEXT COLLATE "C" NOT NULL,
	member_id  TEXT COLLATE "C" NOT NULL,
	id         BIGINT GENERATED ALWAYS AS IDENTITY,
	at         TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (program_id, member_id, id),
	FOREIGN KEY (program_id, member_id) REFERENCES google_passes (program_id, member_id) ON DELETE CASCADE
);

-- A pass's notifications in a window.
CREATE INDEX google_notifications_by_pass ON google_notifications (program_id, member_id, at);
