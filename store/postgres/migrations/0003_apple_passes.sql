-- 0003: Apple Wallet passes and the devices registered for their updates.
--
-- A pass's UpdatedAt is not stored: reads compute it as the later of its
-- created_at and its member's account's updated_at.
--
-- Distribution: apple_passes is a member table keyed by (program_id,
-- member_id, …) and would be co-located with accounts; its serial is unique
-- across members, like a card number, and so would need a lookup table.
-- apple_registrations is keyed by device and would be distributed by
-- (pass_type_id, serial) with a lookup by device.

-- apple_passes holds a member's pass of each pass type: the serial number
-- devices know it by and the token they authenticate with.
CREATE TABLE apple_passes (
	program_id   TEXT COLLATE "C" NOT NULL,
	member_id    TEXT COLLATE "C" NOT NULL,
	pass_type_id TEXT COLLATE "C" NOT NULL CHECK (pass_type_id <> ''),
	serial       TEXT COLLATE "C" NOT NULL CHECK (serial <> ''),
	auth_token   TEXT NOT NULL CHECK (auth_token <> ''),
	created_at   TIMESTAMPTZ NOT NULL,
	CONSTRAINT apple_passes_pkey PRIMARY KEY (program_id, member_id, pass_type_id),
	CONSTRAINT apple_passes_serial_key UNIQUE (pass_type_id, serial),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id)
);

-- apple_registrations are the devices registered for updates of a pass.
-- The primary key serves a device's lookups (its passes, their count).
CREATE TABLE apple_registrations (
	device_id    TEXT COLLATE "C" NOT NULL CHECK (device_id <> ''),
	pass_type_id TEXT COLLATE "C" NOT NULL,
	serial       TEXT COLLATE "C" NOT NULL,
	push_token   TEXT COLLATE "C" NOT NULL CHECK (push_token <> ''),
	created_at   TIMESTAMPTZ NOT NULL,
	CONSTRAINT apple_registrations_pkey PRIMARY KEY (device_id, pass_type_id, serial),
	FOREIGN KEY (pass_type_id, serial) REFERENCES apple_passes (pass_type_id, serial) ON DELETE CASCADE
);

-- A pass's registrations, oldest first; also the cascade's lookup.
CREATE INDEX apple_registrations_by_pass ON apple_registrations (pass_type_id, serial, created_at);
-- The registrations of a push token APNs reports unregistered.
CREATE INDEX apple_registrations_by_token ON apple_registrations (pass_type_id, push_token);
