package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/notify"
)

var _ notify.Store = (*Store)(nil)

// Bounds of the pages of messages the store reads.
const (
	// maxDue bounds Due's limit.
	maxDue = 1000
	// maxMessages bounds Messages's limit.
	maxMessages = 500
)

// messageColumns are the columns of a push_messages row that scanMessage
// scans.
const messageColumns = `id, program_id, member_id, kind, key, title, body, data, digest,
	created_at, not_before, expires_at, state, attempts, sent_at, reason`

// scanMessage scans a row of messageColumns.
func scanMessage(row pgx.Row) (notify.Message, error) {
	var (
		m                 notify.Message
		title, body, data []byte
		sent              *time.Time
	)
	if err := row.Scan(&m.ID, &m.ProgramID, &m.MemberID, &m.Kind, &m.Key, &title, &body, &data, &m.Digest,
		&m.CreatedAt, &m.NotBefore, &m.ExpiresAt, &m.State, &m.Attempts, &sent, &m.Reason); err != nil {
		return notify.Message{}, err
	}
	if err := json.Unmarshal(title, &m.Title); err != nil {
		return notify.Message{}, fmt.Errorf("decode title of message %d: %w", m.ID, err)
	}
	if err := json.Unmarshal(body, &m.Body); err != nil {
		return notify.Message{}, fmt.Errorf("decode body of message %d: %w", m.ID, err)
	}
	if err := json.Unmarshal(data, &m.Data); err != nil {
		return notify.Message{}, fmt.Errorf("decode data of message %d: %w", m.ID, err)
	}
	if len(m.Data) == 0 {
		m.Data = nil
	}
	m.CreatedAt, m.NotBefore, m.ExpiresAt, m.SentAt = m.CreatedAt.UTC(), m.NotBefore.UTC(), m.ExpiresAt.UTC(), fromNull(sent)
	return m, nil
}

// encodeMessage returns m's title, body and data as stored: JSON, an empty
// Data as {}.
func encodeMessage(m *notify.Message) (title, body, data string, err error) {
	t, err := json.Marshal(m.Title)
	if err != nil {
		return "", "", "", err
	}
	b, err := json.Marshal(m.Body)
	if err != nil {
		return "", "", "", err
	}
	d := []byte("{}")
	if len(m.Data) > 0 {
		if d, err = json.Marshal(m.Data); err != nil {
			return "", "", "", err
		}
	}
	return string(t), string(b), string(d), nil
}

// Enqueue stores m as pending, sets m.ID and m.State and returns true; it
// returns false and stores nothing when the program has a message with
// m.Key. Times are kept to the microsecond. Concurrent calls with one key
// wait for each other (the unique key), and one of them stores its message.
func (s *Store) Enqueue(ctx context.Context, m *notify.Message) (bool, error) {
	if m.ProgramID == "" || m.MemberID == "" || m.Key == "" || m.Kind == "" {
		return false, fmt.Errorf("%w: a message needs a program, a member, a kind and a key", loyalty.ErrInvalid)
	}
	title, body, data, err := encodeMessage(m)
	if err != nil {
		return false, fmt.Errorf("postgres: encode message %q: %w", m.Key, err)
	}
	var id int64
	err = s.write(ctx, func(t *tx) error {
		id = 0
		err := t.scanRow(ctx, func(r pgx.Row) error { return r.Scan(&id) }, `INSERT INTO push_messages
			(program_id, member_id, kind, key, title, body, data, digest, created_at, not_before, expires_at, state, attempts, sent_at, reason)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT (program_id, key) DO NOTHING RETURNING id`,
			m.ProgramID, m.MemberID, string(m.Kind), m.Key, title, body, data, m.Digest,
			m.CreatedAt, m.NotBefore, m.ExpiresAt, string(notify.StatePending), m.Attempts, nullTime(m.SentAt), m.Reason)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // the program has a message with the key
		}
		if err != nil {
			return fmt.Errorf("postgres: enqueue message %q: %w", m.Key, err)
		}
		return nil
	})
	if err != nil || id == 0 {
		return false, err
	}
	m.ID, m.State = id, notify.StatePending
	return true, nil
}

// AcquireLease takes or renews the lease name for holder until now+ttl and
// returns true, or returns false when another holder has it beyond now. It
// is one statement: of concurrent callers, those after the first wait for
// its row and then see it, so one of them gets a lease that is free.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return false, fmt.Errorf("%w: a lease needs a name, a holder and a positive time to live", loyalty.ErrInvalid)
	}
	var got bool
	err := s.write(ctx, func(t *tx) error {
		tag, err := t.exec(ctx, `INSERT INTO leases (name, holder, until) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
			WHERE leases.holder = excluded.holder OR leases.until <= $4`,
			name, holder, now.Add(ttl), now)
		if err != nil {
			return fmt.Errorf("postgres: acquire lease %q: %w", name, err)
		}
		got = tag.RowsAffected() > 0
		return nil
	})
	return got, err
}

// Due returns up to limit pending messages whose NotBefore is at or before
// now, soonest NotBefore first, then by ID. It returns a loyalty.ErrInvalid
// error for a limit outside 1..1000.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]notify.Message, error) {
	if limit < 1 || limit > maxDue {
		return nil, fmt.Errorf("%w: limit must be 1 to %d, got %d", loyalty.ErrInvalid, maxDue, limit)
	}
	return s.messages(ctx, "due messages", "SELECT "+messageColumns+` FROM push_messages
		WHERE state = 'pending' AND not_before <= $1 ORDER BY not_before, id LIMIT $2`, now, limit)
}

// SaveMessage writes m's State, NotBefore, Attempts, SentAt and Reason. It
// returns a loyalty.ErrNotFound error when there is no message m.ID.
func (s *Store) SaveMessage(ctx context.Context, m notify.Message) error {
	return s.write(ctx, func(t *tx) error {
		tag, err := t.exec(ctx, `UPDATE push_messages
			SET state = $2, not_before = $3, attempts = $4, sent_at = $5, reason = $6 WHERE id = $1`,
			m.ID, string(m.State), m.NotBefore, m.Attempts, nullTime(m.SentAt), m.Reason)
		if err != nil {
			return fmt.Errorf("postgres: save message %d: %w", m.ID, err)
		}
		return mustAffect(tag, fmt.Sprintf("push message %d", m.ID))
	})
}

// SentSince returns when the member's sent messages were sent, for those
// sent at or after since, oldest first.
func (s *Store) SentSince(ctx context.Context, programID, memberID string, since time.Time) ([]time.Time, error) {
	rows, err := s.pool.Query(ctx, `SELECT sent_at FROM push_messages
		WHERE program_id = $1 AND member_id = $2 AND state = 'sent' AND sent_at >= $3 ORDER BY sent_at`,
		programID, memberID, since)
	if err != nil {
		return nil, fmt.Errorf("postgres: read sent messages of member %s: %w", memberID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (time.Time, error) {
		var at time.Time
		err := row.Scan(&at)
		return at.UTC(), err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read sent messages of member %s: %w", memberID, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// SentDigest reports whether a message with digest was sent to the member
// at or after since.
func (s *Store) SentDigest(ctx context.Context, programID, memberID, digest string, since time.Time) (bool, error) {
	var sent bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM push_messages
		WHERE program_id = $1 AND member_id = $2 AND state = 'sent' AND sent_at >= $3 AND digest = $4)`,
		programID, memberID, since, digest).Scan(&sent)
	if err != nil {
		return false, fmt.Errorf("postgres: read sent messages of member %s: %w", memberID, err)
	}
	return sent, nil
}

// Messages returns up to limit of the member's messages, newest first. It
// returns a loyalty.ErrInvalid error for a limit outside 1..500.
func (s *Store) Messages(ctx context.Context, programID, memberID string, limit int) ([]notify.Message, error) {
	if limit < 1 || limit > maxMessages {
		return nil, fmt.Errorf("%w: limit must be 1 to %d, got %d", loyalty.ErrInvalid, maxMessages, limit)
	}
	return s.messages(ctx, "messages of member "+memberID, "SELECT "+messageColumns+` FROM push_messages
		WHERE program_id = $1 AND member_id = $2 ORDER BY id DESC LIMIT $3`, programID, memberID, limit)
}

// messages reads the messages query selects, described by what.
func (s *Store) messages(ctx context.Context, what, query string, args ...any) ([]notify.Message, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read %s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (notify.Message, error) { return scanMessage(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: read %s: %w", what, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
