package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
)

// memberColumns are the columns of a members row that scanMember scans.
const memberColumns = "program_id, id, firebase_uid, card_number, locale, created_at, name, email, erased_at"

// scanMember scans a row of memberColumns.
func scanMember(row pgx.Row) (loyalty.Member, error) {
	var (
		m       loyalty.Member
		locale  string
		created time.Time
		erased  *time.Time
	)
	if err := row.Scan(&m.ProgramID, &m.ID, &m.FirebaseUID, &m.CardNumber, &locale, &created, &m.Name, &m.Email, &erased); err != nil {
		return loyalty.Member{}, err
	}
	m.Locale, m.CreatedAt, m.ErasedAt = loyalty.Locale(locale), created.UTC(), fromNull(erased)
	return m, nil
}

// member reads one member with query.
func (t *tx) member(ctx context.Context, what, query string, args ...any) (loyalty.Member, error) {
	var m loyalty.Member
	err := t.scanRow(ctx, func(row pgx.Row) (err error) { m, err = scanMember(row); return err }, query, args...)
	if err != nil {
		return loyalty.Member{}, lookupErr(err, what)
	}
	return m, nil
}

// MemberByUID returns the program's member signed in as uid.
func (t *tx) MemberByUID(ctx context.Context, programID, uid string) (loyalty.Member, error) {
	return t.member(ctx, "member of program "+programID,
		"SELECT "+memberColumns+" FROM members WHERE program_id = $1 AND firebase_uid = $2", programID, uid)
}

// MemberByID returns the program's member with the id.
func (t *tx) MemberByID(ctx context.Context, programID, id string) (loyalty.Member, error) {
	return t.member(ctx, "member "+id+" of program "+programID,
		"SELECT "+memberColumns+" FROM members WHERE program_id = $1 AND id = $2", programID, id)
}

// MemberByCard returns the member with the card number; an empty programID
// matches every program.
func (t *tx) MemberByCard(ctx context.Context, programID, cardNumber string) (loyalty.Member, error) {
	return t.member(ctx, "member with card "+loyalty.MaskCardNumber(cardNumber),
		"SELECT "+memberColumns+" FROM members WHERE card_number = $1 AND ($2 = '' OR program_id = $2)", cardNumber, programID)
}

// CreateMember creates m and its account with a zero balance. It returns
// ErrConflict when the card number is taken or the user is a member of the
// program already; Update runs its function again first, since the
// conflict may be with a concurrent enrollment that the next attempt sees.
func (t *tx) CreateMember(ctx context.Context, m loyalty.Member) error {
	_, err := t.exec(ctx, "INSERT INTO members ("+memberColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		m.ProgramID, m.ID, m.FirebaseUID, m.CardNumber, string(m.Locale), m.CreatedAt, m.Name, m.Email, nullTime(m.ErasedAt))
	if isUnique(err) {
		return conflict(err, "member %s, card %s or user of program %s exists already", m.ID, loyalty.MaskCardNumber(m.CardNumber), m.ProgramID)
	}
	if err != nil {
		return fmt.Errorf("postgres: create member: %w", err)
	}
	_, err = t.exec(ctx, `INSERT INTO accounts (program_id, member_id, balance, version, updated_at)
		VALUES ($1, $2, 0, 0, $3)`, m.ProgramID, m.ID, m.CreatedAt)
	if err != nil {
		return fmt.Errorf("postgres: create account: %w", err)
	}
	return nil
}

// Account returns the member's account. In Update it locks the account.
func (t *tx) Account(ctx context.Context, programID, memberID string) (loyalty.Account, error) {
	a := loyalty.Account{ProgramID: programID, MemberID: memberID}
	err := t.scanRow(ctx, func(r pgx.Row) error { return r.Scan(&a.Balance, &a.Version, &a.UpdatedAt) },
		"SELECT balance, version, updated_at FROM accounts WHERE program_id = $1 AND member_id = $2"+t.forUpdate(),
		programID, memberID)
	if err != nil {
		return loyalty.Account{}, lookupErr(err, "account of member "+memberID)
	}
	a.UpdatedAt = a.UpdatedAt.UTC()
	return a, nil
}

// SaveAccount writes a's balance, version and time. It returns ErrNotFound
// when the account does not exist; a negative balance violates a constraint.
func (t *tx) SaveAccount(ctx context.Context, a loyalty.Account) error {
	tag, err := t.exec(ctx, "UPDATE accounts SET balance = $1, version = $2, updated_at = $3 WHERE program_id = $4 AND member_id = $5",
		a.Balance, a.Version, a.UpdatedAt, a.ProgramID, a.MemberID)
	if err != nil {
		return fmt.Errorf("postgres: write account of member %s: %w", a.MemberID, err)
	}
	return mustAffect(tag, "account of member "+a.MemberID)
}
