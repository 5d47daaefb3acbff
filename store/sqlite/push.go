package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

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
func scanMessage(row interface{ Scan(...any) error }) (notify.Message, error) {
	var (
		m                           notify.Message
		title, body, data           string
		created, notBefore, expires int64
		sent                        sql.NullInt64
	)
	if err := row.Scan(&m.ID, &m.ProgramID, &m.MemberID, &m.Kind, &m.Key, &title, &body, &data, &m.Digest,
		&created, &notBefore, &expires, &m.State, &m.Attempts, &sent, &m.Reason); err != nil {
		return notify.Message{}, err
	}
	if err := decodeMessage(&m, title, body, data); err != nil {
		return notify.Message{}, err
	}
	m.CreatedAt, m.NotBefore, m.ExpiresAt, m.SentAt = fromMicros(created), fromMicros(notBefore), fromMicros(expires), fromNullMicros(sent)
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

// decodeMessage sets m's title, body and data from their stored JSON; an
// empty Data reads as nil.
func decodeMessage(m *notify.Message, title, body, data string) error {
	if err := json.Unmarshal([]byte(title), &m.Title); err != nil {
		return fmt.Errorf("decode title: %w", err)
	}
	if err := json.Unmarshal([]byte(body), &m.Body); err != nil {
		return fmt.Errorf("decode body: %w", err)
	}
	if err := json.Unmarshal([]byte(data), &m.Data); err != nil {
		return fmt.Errorf("decode data: %w", err)
	}
	if len(m.Data) == 0 {
		m.Data = nil
	}
	return nil
}

// Enqueue stores m as pending, sets m.ID and m.State and returns true; it
// returns false and stores nothing when the program has a message with
// m.Key. Times are kept to the microsecond.
func (s *Store) Enqueue(ctx context.Context, m *notify.Message) (bool, error) {
	if m.ProgramID == "" || m.MemberID == "" || m.Key == "" || m.Kind == "" {
		return false, fmt.Errorf("%w: a message needs a program, a member, a kind and a key", loyalty.ErrInvalid)
	}
	title, body, data, err := encodeMessage(m)
	if err != nil {
		return false, fmt.Errorf("sqlite: encode message %q: %w", m.Key, err)
	}
	var id int64
	err = s.write(ctx, func(t *tx) error {
		id = 0
		res, err := t.tx.ExecContext(stmtContext(ctx), `INSERT INTO push_messages
			(program_id, member_id, kind, key, title, body, data, digest, created_at, not_before, expires_at, state, attempts, sent_at, reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (program_id, key) DO NOTHING`,
			m.ProgramID, m.MemberID, string(m.Kind), m.Key, title, body, data, m.Digest,
			micros(m.CreatedAt), micros(m.NotBefore), micros(m.ExpiresAt), string(notify.StatePending),
			m.Attempts, nullMicros(m.SentAt), m.Reason)
		if err != nil {
			return fmt.Errorf("sqlite: enqueue message %q: %w", m.Key, err)
		}
		n, err := res.RowsAffected()
		if err == nil && n > 0 {
			id, err = res.LastInsertId()
		}
		if err != nil {
			return fmt.Errorf("sqlite: enqueue message %q: %w", m.Key, err)
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
// returns true, or returns false when another holder has it beyond now.
// The writer's transactions run one at a time, so of concurrent callers
// one gets a lease that is free.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return false, fmt.Errorf("%w: a lease needs a name, a holder and a positive time to live", loyalty.ErrInvalid)
	}
	var got bool
	err := s.write(ctx, func(t *tx) error {
		res, err := t.tx.ExecContext(stmtContext(ctx), `INSERT INTO leases (name, holder, until) VALUES (?1, ?2, ?3)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
			WHERE leases.holder = excluded.holder OR leases.until <= ?4`,
			name, holder, micros(now.Add(ttl)), micros(now))
		if err == nil {
			var n int64
			n, err = res.RowsAffected()
			got = n > 0
		}
		if err != nil {
			return fmt.Errorf("sqlite: acquire lease %q: %w", name, err)
		}
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
		WHERE state = 'pending' AND not_before <= ? ORDER BY not_before, id LIMIT ?`, micros(now), limit)
}

// SaveMessage writes m's State, NotBefore, Attempts, SentAt and Reason. It
// returns a loyalty.ErrNotFound error when there is no message m.ID.
func (s *Store) SaveMessage(ctx context.Context, m notify.Message) error {
	return s.write(ctx, func(t *tx) error {
		res, err := t.tx.ExecContext(stmtContext(ctx), `UPDATE push_messages
			SET state = ?, not_before = ?, attempts = ?, sent_at = ?, reason = ? WHERE id = ?`,
			string(m.State), micros(m.NotBefore), m.Attempts, nullMicros(m.SentAt), m.Reason, m.ID)
		if err != nil {
			return fmt.Errorf("sqlite: save message %d: %w", m.ID, err)
		}
		return mustAffect(res, fmt.Sprintf("push message %d", m.ID))
	})
}

// SentSince returns when the member's sent messages were sent, for those
// sent at or after since, oldest first.
func (s *Store) SentSince(ctx context.Context, programID, memberID string, since time.Time) ([]time.Time, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT sent_at FROM push_messages
		WHERE program_id = ? AND member_id = ? AND state = 'sent' AND sent_at >= ? ORDER BY sent_at`,
		programID, memberID, micros(since))
	if err != nil {
		return nil, fmt.Errorf("sqlite: read sent messages of member %s: %w", memberID, err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			return nil, fmt.Errorf("sqlite: read sent messages of member %s: %w", memberID, err)
		}
		out = append(out, fromMicros(at))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read sent messages of member %s: %w", memberID, err)
	}
	return out, nil
}

// SentDigest reports whether a message with digest was sent to the member
// at or after since.
func (s *Store) SentDigest(ctx context.Context, programID, memberID, digest string, since time.Time) (bool, error) {
	var sent bool
	err := s.reader.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM push_messages
		WHERE program_id = ? AND member_id = ? AND state = 'sent' AND sent_at >= ? AND digest = ?)`,
		programID, memberID, micros(since), digest).Scan(&sent)
	if err != nil {
		return false, fmt.Errorf("sqlite: read sent messages of member %s: %w", memberID, err)
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
		WHERE program_id = ? AND member_id = ? ORDER BY id DESC LIMIT ?`, programID, memberID, limit)
}

// messages reads the messages query selects, described by what.
func (s *Store) messages(ctx context.Context, what, query string, args ...any) ([]notify.Message, error) {
	rows, err := s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read %s: %w", what, err)
	}
	defer rows.Close()
	var out []notify.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read %s: %w", what, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read %s: %w", what, err)
	}
	return out, nil
}
