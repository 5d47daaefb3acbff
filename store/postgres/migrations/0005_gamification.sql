-- 0005: gamification (each member's game state and the bonuses granted to
-- them once) and the operators who configure a program.
--
-- Distribution: game_states and grants are member tables keyed by
-- (program_id, member_id, …) and would be co-located with accounts;
-- game_states's referral code is unique across the program's members, like
-- a card number, and so would need a lookup table. operators would be a
-- reference table, like tills.

-- game_states holds a member's gamification state: state is the whole
-- loyalty.GameState but for its keys and referral code, which are columns.
-- A member without a row has the zero state. referral_code is NULL until
-- the member asks for one; it is unique in the program.
CREATE TABLE game_states (
	program_id    TEXT COLLATE "C" NOT NULL,
	member_id     TEXT COLLATE "C" NOT NULL,
	state         JSONB NOT NULL,
	referral_code TEXT COLLATE "C" CHECK (referral_code <> ''),
	CONSTRAINT game_states_pkey PRIMARY KEY (program_id, member_id),
	CONSTRAINT game_states_referral_code_key UNIQUE (program_id, referral_code),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id)
);

-- grants records the bonuses granted to a member, by key, so that each is
-- granted once.
CREATE TABLE grants (
	program_id TEXT COLLATE "C" NOT NULL,
	member_id  TEXT COLLATE "C" NOT NULL,
	key        TEXT COLLATE "C" NOT NULL CHECK (key <> ''),
	created_at TIMESTAMPTZ NOT NULL,
	CONSTRAINT grants_pkey PRIMARY KEY (program_id, member_id, key),
	FOREIGN KEY (program_id, member_id) REFERENCES members (program_id, id)
);

-- operators hold the API keys that configure a program's rules and read its
-- figures, as tills hold those that post purchases.
CREATE TABLE operators (
	id         TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (id <> ''),
	program_id TEXT COLLATE "C" NOT NULL REFERENCES programs (id),
	name       TEXT  NOT NULL,
	-- key_hash is the SHA-256 hash of the operator's API key.
	key_hash   BYTEA NOT NULL CHECK (octet_length(key_hash) = 32),
	CONSTRAINT operators_key_hash_key UNIQUE (key_hash)
);
