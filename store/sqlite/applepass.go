package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/wallet/applepass"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ applepass.Store = (*Store)(nil)

// write runs fn in one of Update's write transactions: on the single
// writer, begun immediate, run again while the database is busy.
func (s *Store) write(ctx context.Context, fn func(t *tx) error) error {
	return s.Update(ctx, func(lt loyalty.Tx) error { return fn(lt.(*tx)) })
}

// passQuery selects apple_passes as p with the record's columns; its
// UpdatedAt is the later of the pass's creation and the account's last
// change.
const passQuery = `SELECT p.program_id, p.member_id, p.pass_type_id, p.serial, p.auth_token, p.created_at,
		max(p.created_at, coalesce(a.updated_at, p.created_at))
	FROM apple_passes p
	LEFT JOIN accounts a ON a.program_id = p.program_id AND a.member_id = p.member_id`

// pass reads the record that passQuery with where and args selects; it
// returns a not-found error described by what when there is none.
func pass(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, what, where string, args ...any) (applepass.Record, error) {
	r, err := scanPass(q.QueryRowContext(ctx, passQuery+" WHERE "+where, args...))
	if err != nil {
		return applepass.Record{}, lookupErr(err, what)
	}
	return r, nil
}

// scanPass scans a row of passQuery.
func scanPass(row interface{ Scan(...any) error }) (applepass.Record, error) {
	var (
		r                applepass.Record
		created, updated int64
	)
	if err := row.Scan(&r.ProgramID, &r.MemberID, &r.PassTypeID, &r.Serial, &r.AuthToken, &created, &updated); err != nil {
		return applepass.Record{}, err
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return r, nil
}

// CreatePass stores r unless the member has a pass of r.PassTypeID
// already, and returns the member's pass. r.CreatedAt is kept to the
// microsecond. It returns a loyalty.ErrNotFound error when the member does
// not exist.
func (s *Store) CreatePass(ctx context.Context, r applepass.Record) (applepass.Record, error) {
	var out applepass.Record
	err := s.write(ctx, func(t *tx) error {
		_, err := t.tx.ExecContext(stmtContext(ctx), `INSERT INTO apple_passes
			(program_id, member_id, pass_type_id, serial, auth_token, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (program_id, member_id, pass_type_id) DO NOTHING`,
			r.ProgramID, r.MemberID, r.PassTypeID, r.Serial, r.AuthToken, micros(r.CreatedAt))
		if code(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
			return notFound("member %s of program %s", r.MemberID, r.ProgramID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: create pass of member %s: %w", r.MemberID, err)
		}
		out, err = pass(stmtContext(ctx), t.tx, "pass of member "+r.MemberID,
			"p.program_id = ? AND p.member_id = ? AND p.pass_type_id = ?", r.ProgramID, r.MemberID, r.PassTypeID)
		return err
	})
	if err != nil {
		return applepass.Record{}, err
	}
	return out, nil
}

// Pass returns the member's pass of passTypeID, or a loyalty.ErrNotFound
// error.
func (s *Store) Pass(ctx context.Context, programID, memberID, passTypeID string) (applepass.Record, error) {
	return pass(ctx, s.reader, "pass of member "+memberID,
		"p.program_id = ? AND p.member_id = ? AND p.pass_type_id = ?", programID, memberID, passTypeID)
}

// PassBySerial returns the pass of passTypeID with the serial number, or a
// loyalty.ErrNotFound error.
func (s *Store) PassBySerial(ctx context.Context, passTypeID, serial string) (applepass.Record, error) {
	return pass(ctx, s.reader, "pass "+serial, "p.pass_type_id = ? AND p.serial = ?", passTypeID, serial)
}

// Register registers r's device for updates of r's pass, or updates the
// push token of the registration that exists; created reports whether it
// is new. It returns applepass.ErrTooManyRegistrations when a new
// registration would exceed a limit, and a loyalty.ErrNotFound error when
// the pass does not exist. The writer's transactions run one at a time, so
// the limits hold under concurrent registrations.
func (s *Store) Register(ctx context.Context, r applepass.Registration) (created bool, err error) {
	err = s.write(ctx, func(t *tx) error {
		created = false
		ctx := stmtContext(ctx)
		var one int
		err := t.tx.QueryRowContext(ctx, "SELECT 1 FROM apple_passes WHERE pass_type_id = ? AND serial = ?",
			r.PassTypeID, r.Serial).Scan(&one)
		if err != nil {
			return lookupErr(err, "pass "+r.Serial)
		}
		res, err := t.tx.ExecContext(ctx, "UPDATE apple_registrations SET push_token = ?, created_at = ? WHERE device_id = ? AND pass_type_id = ? AND serial = ?",
			r.PushToken, micros(r.CreatedAt), r.DeviceID, r.PassTypeID, r.Serial)
		if err != nil {
			return fmt.Errorf("sqlite: update registration: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err // registered already: the token is updated
		}
		var perDevice, perPass int
		err = t.tx.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM apple_registrations WHERE device_id = ?),
			(SELECT count(*) FROM apple_registrations WHERE pass_type_id = ? AND serial = ?)`,
			r.DeviceID, r.PassTypeID, r.Serial).Scan(&perDevice, &perPass)
		if err != nil {
			return fmt.Errorf("sqlite: count registrations: %w", err)
		}
		if err := checkLimits(perDevice, perPass); err != nil {
			return err
		}
		_, err = t.tx.ExecContext(ctx, `INSERT INTO apple_registrations (device_id, pass_type_id, serial, push_token, created_at)
			VALUES (?, ?, ?, ?, ?)`, r.DeviceID, r.PassTypeID, r.Serial, r.PushToken, micros(r.CreatedAt))
		if err != nil {
			return fmt.Errorf("sqlite: register device: %w", err)
		}
		created = true
		return nil
	})
	return created, err
}

// checkLimits returns applepass.ErrTooManyRegistrations when a device with
// perDevice registrations or a pass with perPass may not get another.
func checkLimits(perDevice, perPass int) error {
	switch {
	case perDevice >= applepass.MaxPassesPerDevice:
		return fmt.Errorf("%w: the device is registered for %d passes", applepass.ErrTooManyRegistrations, perDevice)
	case perPass >= applepass.MaxDevicesPerPass:
		return fmt.Errorf("%w: the pass has %d devices", applepass.ErrTooManyRegistrations, perPass)
	}
	return nil
}

// Unregister removes a registration; found reports whether it existed.
func (s *Store) Unregister(ctx context.Context, deviceID, passTypeID, serial string) (found bool, err error) {
	n, err := s.delete(ctx, "DELETE FROM apple_registrations WHERE device_id = ? AND pass_type_id = ? AND serial = ?",
		deviceID, passTypeID, serial)
	return n > 0, err
}

// DeleteRegistrationsByToken removes the registrations of passTypeID with
// the push token created at or before before, and returns how many.
func (s *Store) DeleteRegistrationsByToken(ctx context.Context, passTypeID, pushToken string, before time.Time) (int, error) {
	return s.delete(ctx, "DELETE FROM apple_registrations WHERE pass_type_id = ? AND push_token = ? AND created_at <= ?",
		passTypeID, pushToken, micros(before))
}

// delete runs a DELETE statement and returns how many rows it removed.
func (s *Store) delete(ctx context.Context, query string, args ...any) (int, error) {
	var n int64
	err := s.write(ctx, func(t *tx) error {
		res, err := t.tx.ExecContext(stmtContext(ctx), query, args...)
		if err == nil {
			n, err = res.RowsAffected()
		}
		if err != nil {
			return fmt.Errorf("sqlite: delete registrations: %w", err)
		}
		return nil
	})
	return int(n), err
}

// UpdatedSince returns the sorted serial numbers of the passes of
// passTypeID the device is registered for that changed after since (all
// for a zero since), and the latest of their UpdatedAt (zero when none).
func (s *Store) UpdatedSince(ctx context.Context, deviceID, passTypeID string, since time.Time) (serials []string, last time.Time, err error) {
	var after sql.NullInt64
	if !since.IsZero() {
		after = sql.NullInt64{Int64: micros(since), Valid: true}
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT serial, updated FROM (
			SELECT p.serial, max(p.created_at, coalesce(a.updated_at, p.created_at)) AS updated
			FROM apple_registrations r
			JOIN apple_passes p ON p.pass_type_id = r.pass_type_id AND p.serial = r.serial
			LEFT JOIN accounts a ON a.program_id = p.program_id AND a.member_id = p.member_id
			WHERE r.device_id = ?1 AND r.pass_type_id = ?2
		) WHERE ?3 IS NULL OR updated > ?3
		ORDER BY serial`, deviceID, passTypeID, after)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("sqlite: read updated passes: %w", err)
	}
	defer rows.Close()
	var newest int64
	for rows.Next() {
		var (
			serial  string
			updated int64
		)
		if err := rows.Scan(&serial, &updated); err != nil {
			return nil, time.Time{}, fmt.Errorf("sqlite: read updated passes: %w", err)
		}
		serials = append(serials, serial)
		if len(serials) == 1 || updated > newest {
			newest = updated
		}
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("sqlite: read updated passes: %w", err)
	}
	if len(serials) == 0 {
		return nil, time.Time{}, nil
	}
	return serials, fromMicros(newest), nil
}

// Registrations returns the registrations of a pass, oldest first; none
// when the pass does not exist.
func (s *Store) Registrations(ctx context.Context, passTypeID, serial string) ([]applepass.Registration, error) {
	return registrations(ctx, s.reader, passTypeID, serial)
}

// registrations reads the registrations of a pass through q, oldest first.
func registrations(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, passTypeID, serial string) ([]applepass.Registration, error) {
	rows, err := q.QueryContext(ctx, `SELECT device_id, push_token, created_at FROM apple_registrations
		WHERE pass_type_id = ? AND serial = ? ORDER BY created_at, device_id`, passTypeID, serial)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read registrations of pass %s: %w", serial, err)
	}
	defer rows.Close()
	var out []applepass.Registration
	for rows.Next() {
		r := applepass.Registration{PassTypeID: passTypeID, Serial: serial}
		var created int64
		if err := rows.Scan(&r.DeviceID, &r.PushToken, &created); err != nil {
			return nil, fmt.Errorf("sqlite: read registrations of pass %s: %w", serial, err)
		}
		r.CreatedAt = fromMicros(created)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read registrations of pass %s: %w", serial, err)
	}
	return out, nil
}
