-- 0004: Apple Wallet passes and the devices registered for their updates.
--
-- Times are INTEGER unix microseconds UTC. A pass's UpdatedAt is not
-- stored: reads compute it as the later of its created_at and its member's
-- account's updated_at.

-- apple_passes holds a member's pass of each pass type: the serial number
-- devices know it by and the token they authenticate with.
CREATE TABLE apple_passes (
	program_id   TEXT    NOT NULL,
	member_id    TEXT    NOT NULL,
	pass_type_id TEXT    NOT NULL CHECK (pass_type_id <> ''),
	serial       TEXT    NOT NULL CHECK (serial <> ''),
	auth_token   TEXT    NOT NULL CHECK (auth_token <> ''),
	created_at   INTEGER NOT NULL,
	PRIMARY KEY (program_id, member_id, pass_type_id),
	UNIQUE (pass_type_id, serial),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id)
) STRICT;

-- apple_registrations are the devices registered for updates of a pass.
-- The primary key serves a device's lookups (its passes, their count).
CREATE TABLE apple_registrations (
	device_id    TEXT    NOT NULL CHECK (device_id <> ''),
	pass_type_id TEXT    NOT NULL,
	serial       TEXT    NOT NULL,
	push_token   TEXT    NOT NULL CHECK (push_token <> ''),
	created_at   INTEGER NOT NULL,
	PRIMARY KEY (device_id, pass_type_id, serial),
	FOREIGN KEY (pass_type_id, serial) REFERENCES apple_passes (pass_type_id, serial) ON DELETE CASCADE
) STRICT;

-- A pass's registrations, oldest first; also the cascade's lookup.
CREATE INDEX apple_registrations_by_pass ON apple_registrations (pass_type_id, serial, created_at);
-- The registrations of a push token APNs reports unregistered.
CREATE INDEX apple_registrations_by_token ON apple_registrations (pass_type_id, push_token);
