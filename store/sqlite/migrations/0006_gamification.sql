-- 0006: gamification (each member's game state and the bonuses granted to
-- them once) and the operators who configure a program.
--
-- Times are INTEGER unix microseconds UTC.

-- game_states holds a member's gamification state: state is the whole
-- loyalty.GameState as JSON but for its keys and referral code, which are
-- columns. A member without a row has the zero state. referral_code is NULL
-- until the member asks for one; it is unique in the program.
CREATE TABLE game_states (
	program_id    TEXT NOT NULL,
	member_id     TEXT NOT NULL,
	state         TEXT NOT NULL CHECK (json_valid(state)),
	referral_code TEXT CHECK (referral_code <> ''),
	PRIMARY KEY (program_id, member_id),
	UNIQUE (program_id, referral_code),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id)
) STRICT;

-- grants records the bonuses granted to a member, by key, so that each is
-- granted once.
CREATE TABLE grants (
	program_id TEXT    NOT NULL,
	member_id  TEXT    NOT NULL,
	key        TEXT    NOT NULL CHECK (key <> ''),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (program_id, member_id, key),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id)
) STRICT;

-- operators hold the API keys that configure a program's rules and read its
-- figures, as tills hold those that post purchases.
CREATE TABLE operators (
	id         TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
	program_id TEXT NOT NULL REFERENCES programs (id),
	name       TEXT NOT NULL,
	-- key_hash is the SHA-256 hash of the operator's API key.
	key_hash   BLOB NOT NULL UNIQUE CHECK (length(key_hash) = 32)
) STRICT;
