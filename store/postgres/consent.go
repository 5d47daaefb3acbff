package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
)

// lockMember takes, in Update, the transaction-scoped advisory lock on the
// member's rows of kind ("consents", "devices"), so that transactions that
// read them to change them run one after the other. In View it does
// nothing. The key is 64 bits of the SHA-256 hash of kind and the member;
// two members that share a key only wait for each other.
func (t *tx) lockMember(ctx context.Context, kind, programID, memberID string) error {
	if !t.write {
		return nil
	}
	h := sha256.Sum256([]byte(kind + "\x00" + programID + "\x00" + memberID))
	if _, err := t.exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(binary.BigEndian.Uint64(h[:]))); err != nil {
		return fmt.Errorf("postgres: lock %s of member %s: %w", kind, memberID, err)
	}
	return nil
}

// AppendConsent writes c and sets c.Seq to the id the database assigned.
// It returns ErrNotFound when the member does not exist or was erased: a
// change that waited for the member's consents (Consents in Update) while
// the member was erased stores nothing.
func (t *tx) AppendConsent(ctx context.Context, c *loyalty.Consent) error {
	err := t.scanRow(ctx, func(r pgx.Row) error { return r.Scan(&c.Seq) }, `INSERT INTO consents
		(program_id, member_id, purpose, granted, text_version, source, at)
		SELECT m.program_id, m.id, $3, $4::boolean, $5, $6, $7::timestamptz
		FROM members m WHERE m.program_id = $1 AND m.id = $2 AND m.erased_at IS NULL
		RETURNING seq`,
		c.ProgramID, c.MemberID, string(c.Purpose), c.Granted, c.TextVersion, c.Source, c.At)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("member %s of program %s", c.MemberID, c.ProgramID)
	}
	if err != nil {
		return fmt.Errorf("postgres: append consent of member %s: %w", c.MemberID, err)
	}
	return nil
}

// Consents returns the member's consent records, oldest first. In Update
// it locks the member's consents (an advisory lock) until the transaction
// ends, so that concurrent changes of one member's consents see each
// other's records.
func (t *tx) Consents(ctx context.Context, programID, memberID string) ([]loyalty.Consent, error) {
	if err := t.lockMember(ctx, "consents", programID, memberID); err != nil {
		return nil, err
	}
	scan := func(row pgx.Row) (loyalty.Consent, error) {
		c := loyalty.Consent{ProgramID: programID, MemberID: memberID}
		var at time.Time
		if err := row.Scan(&c.Seq, &c.Purpose, &c.Granted, &c.TextVersion, &c.Source, &at); err != nil {
			return loyalty.Consent{}, err
		}
		c.At = at.UTC()
		return c, nil
	}
	out, err := collect(ctx, t, scan, `SELECT seq, purpose, granted, text_version, source, at
		FROM consents WHERE program_id = $1 AND member_id = $2 ORDER BY seq`, programID, memberID)
	if err != nil {
		return nil, fmt.Errorf("postgres: read consents of member %s: %w", memberID, err)
	}
	return out, nil
}
