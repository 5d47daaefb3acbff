package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/treue/treue/loyalty"
)

// memberColumns are the columns of a members row that scanMember scans.
const memberColumns = "program_id, id, firebase_uid, card_number, locale, created_at, name, email, erased_at"

// scanMember scans a row of memberColumns.
func scanMember(row interface{ Scan(...any) error }) (loyalty.Member, error) {
	var (
		m       loyalty.Member
		created int64
		erased  sql.NullInt64
	)
	if err := row.Scan(&m.ProgramID, &m.ID, &m.FirebaseUID, &m.CardNumber, &m.Locale, &created, &m.Name, &m.Email, &erased); err != nil {
		return loyalty.Member{}, err
	}
	m.CreatedAt, m.ErasedAt = fromMicros(created), fromNullMicros(erased)
	return m, nil
}

// MemberByUID returns the program's member signed in as uid.
func (t *tx) MemberByUID(ctx context.Context, programID, uid string) (loyalty.Member, error) {
	row := t.tx.QueryRowContext(stmtContext(ctx), "SELECT "+memberColumns+" FROM members WHERE program_id = ? AND firebase_uid = ?", programID, uid)
	m, err := scanMember(row)
	if err != nil {
		return loyalty.Member{}, lookupErr(err, "member of program "+programID)
	}
	return m, nil
}

// MemberByID returns the program's member with the id.
func (t *tx) MemberByID(ctx context.Context, programID, id string) (loyalty.Member, error) {
	row := t.tx.QueryRowContext(stmtContext(ctx), "SELECT "+memberColumns+" FROM members WHERE program_id = ? AND id = ?", programID, id)
	m, err := scanMember(row)
	if err != nil {
		return loyalty.Member{}, lookupErr(err, "member "+id+" of program "+programID)
	}
	return m, nil
}

// MemberByCard returns the member with the card number; an empty programID
// matches every program.
func (t *tx) MemberByCard(ctx context.Context, programID, cardNumber string) (loyalty.Member, error) {
	row := t.tx.QueryRowContext(stmtContext(ctx), "SELECT "+memberColumns+" FROM members WHERE card_number = ?1 AND (?2 = '' OR program_id = ?2)",
		cardNumber, programID)
	m, err := scanMember(row)
	if err != nil {
		return loyalty.Member{}, lookupErr(err, "member with card "+loyalty.MaskCardNumber(cardNumber))
	}
	return m, nil
}

// CreateMember creates m and its account with a zero balance. It returns
// ErrConflict when the card number is taken or the user is a member of the
// program already.
func (t *tx) CreateMember(ctx context.Context, m loyalty.Member) error {
	_, err := t.tx.ExecContext(stmtContext(ctx), "INSERT INTO members ("+memberColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		m.ProgramID, m.ID, m.FirebaseUID, m.CardNumber, string(m.Locale), micros(m.CreatedAt), m.Name, m.Email, nullMicros(m.ErasedAt))
	if isUnique(err) {
		return conflict("member %s, card %s or user of program %s exists already", m.ID, loyalty.MaskCardNumber(m.CardNumber), m.ProgramID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create member: %w", err)
	}
	_, err = t.tx.ExecContext(stmtContext(ctx), `INSERT INTO accounts (program_id, member_id, balance, version, updated_at)
		VALUES (?, ?, 0, 0, ?)`, m.ProgramID, m.ID, micros(m.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create account: %w", err)
	}
	return nil
}

// Account returns the member's account. The writer's transactions hold the
// database's write lock from their start, so the account stays locked until
// the transaction ends.
func (t *tx) Account(ctx context.Context, programID, memberID string) (loyalty.Account, error) {
	a := loyalty.Account{ProgramID: programID, MemberID: memberID}
	var updated int64
	err := t.tx.QueryRowContext(stmtContext(ctx), "SELECT balance, version, updated_at FROM accounts WHERE program_id = ? AND member_id = ?",
		programID, memberID).Scan(&a.Balance, &a.Version, &updated)
	if err != nil {
		return loyalty.Account{}, lookupErr(err, "account of member "+memberID)
	}
	a.UpdatedAt = fromMicros(updated)
	return a, nil
}

// SaveAccount writes a's balance, version and time. It returns ErrNotFound
// when the account does not exist; a negative balance violates a constraint.
func (t *tx) SaveAccount(ctx context.Context, a loyalty.Account) error {
	res, err := t.tx.ExecContext(stmtContext(ctx), "UPDATE accounts SET balance = ?, version = ?, updated_at = ? WHERE program_id = ? AND member_id = ?",
		a.Balance, a.Version, micros(a.UpdatedAt), a.ProgramID, a.MemberID)
	if err != nil {
		return fmt.Errorf("sqlite: write account of member %s: %w", a.MemberID, err)
	}
	return mustAffect(res, "account of member "+a.MemberID)
}
