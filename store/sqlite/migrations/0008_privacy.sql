-- 0008: members' optional name and e-mail address, and erasure.
--
-- Times are INTEGER unix microseconds UTC.
--
-- An erased member keeps its row, so that the account and ledger, which
-- reference it, stay under the member id, a pseudonym: firebase_uid becomes
-- 'erased:<id>' (unique in the program, as the id is) and card_number
-- 'erased:<program id>:<id>' (card numbers are unique across programs, ids
-- only within one), name and email ''. No till reads either: a card number
-- is 16 digits.
--
-- Vouchers of an erased member get the status 'voided'. vouchers checks
-- only that a status is not empty and that redeemed_at is set exactly for
-- 'redeemed', so a voided voucher (redeemed_at NULL) needs no change of the
-- table.

-- name and email are kept only while the member consents to it; '' is none.
ALTER TABLE members ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN email TEXT NOT NULL DEFAULT '';
-- erased_at is NULL until the member is erased; an erased member has
-- neither name nor e-mail address.
ALTER TABLE members ADD COLUMN erased_at INTEGER CHECK (erased_at IS NULL OR (name = '' AND email = ''));
