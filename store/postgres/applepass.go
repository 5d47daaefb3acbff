package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/wallet/applepass"
)

var _ applepass.Store = (*Store)(nil)

// codeForeignKeyViolation is PostgreSQL's foreign_key_violation.
const codeForeignKeyViolation = "23503"

// write runs fn in one of Update's transactions, so it is run again after
// serialization failures and deadlocks.
func (s *Store) write(ctx context.Context, fn func(t *tx) error) error {
	return s.Update(ctx, func(lt loyalty.Tx) error { return fn(lt.(*tx)) })
}

// passQuery selects apple_passes as p with the record's columns; its
// UpdatedAt is the later of the pass's creation and the account's last
// change.
const passQuery = `SELECT p.program_id, p.member_id, p.pass_type_id, p.serial, p.auth_token, p.created_at,
		greatest(p.created_at, a.updated_at)
	FROM apple_passes p
	LEFT JOIN accounts a ON a.program_id = p.program_id AND a.member_id = p.member_id`

// scanPass scans a row of passQuery.
func scanPass(row pgx.Row) (applepass.Record, error) {
	var r applepass.Record
	if err := row.Scan(&r.ProgramID, &r.MemberID, &r.PassTypeID, &r.Serial, &r.AuthToken, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return applepass.Record{}, err
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return r, nil
}

// CreatePass stores r unless the member has a pass of r.PassTypeID
// already, and returns the member's pass. r.CreatedAt is kept to the
// microsecond. It returns a loyalty.ErrNotFound error when the member does
// not exist. Concurrent calls for one member wait for each other (the
// unique key) and return the pass the first stored.
func (s *Store) CreatePass(ctx context.Context, r applepass.Record) (applepass.Record, error) {
	var out applepass.Record
	err := s.write(ctx, func(t *tx) error {
		_, err := t.exec(ctx, `INSERT INTO apple_passes
			(program_id, member_id, pass_type_id, serial, auth_token, created_at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (program_id, member_id, pass_type_id) DO NOTHING`,
			r.ProgramID, r.MemberID, r.PassTypeID, r.Serial, r.AuthToken, r.CreatedAt)
		if e := pgError(err); e != nil && e.Code == codeForeignKeyViolation {
			return notFound("member %s of program %s", r.MemberID, r.ProgramID)
		}
		if err != nil {
			return fmt.Errorf("postgres: create pass of member %s: %w", r.MemberID, err)
		}
		// READ COMMITTED: this statement sees the pass a concurrent call
		// committed while the insert waited for it.
		err = t.scanRow(ctx, func(row pgx.Row) (err error) { out, err = scanPass(row); return err },
			passQuery+" WHERE p.program_id = $1 AND p.member_id = $2 AND p.pass_type_id = $3",
			r.ProgramID, r.MemberID, r.PassTypeID)
		if err != nil {
			return lookupErr(err, "pass of member "+r.MemberID)
		}
		return nil
	})
	if err != nil {
		return applepass.Record{}, err
	}
	return out, nil
}

// pass reads the record that passQuery with where and args selects; it
// returns a not-found error described by what when there is none.
func (s *Store) pass(ctx context.Context, what, where string, args ...any) (applepass.Record, error) {
	r, err := scanPass(s.pool.QueryRow(ctx, passQuery+" WHERE "+where, args...))
	if err != nil {
		return applepass.Record{}, lookupErr(err, what)
	}
	return r, nil
}

// Pass returns the member's pass of passTypeID, or a loyalty.ErrNotFound
// error.
func (s *Store) Pass(ctx context.Context, programID, memberID, passTypeID string) (applepass.Record, error) {
	return s.pass(ctx, "pass of member "+memberID,
		"p.program_id = $1 AND p.member_id = $2 AND p.pass_type_id = $3", programID, memberID, passTypeID)
}

// PassBySerial returns the pass of passTypeID with the serial number, or a
// loyalty.ErrNotFound error.
func (s *Store) PassBySerial(ctx context.Context, passTypeID, serial string) (applepass.Record, error) {
	return s.pass(ctx, "pass "+serial, "p.pass_type_id = $1 AND p.serial = $2", passTypeID, serial)
}

// deviceLock returns the advisory lock key of a device: 64 bits of the
// SHA-256 hash of its id. Two devices that share a key only wait for each
// other.
func deviceLock(deviceID string) int64 {
	h := sha256.Sum256([]byte("apple-device\x00" + deviceID))
	return int64(binary.BigEndian.Uint64(h[:]))
}

// Register registers r's device for updates of r's pass, or updates the
// push token of the registration that exists; created reports whether it
// is new. It returns applepass.ErrTooManyRegistrations when a new
// registration would exceed a limit, and a loyalty.ErrNotFound error when
// the pass does not exist.
//
// It locks the pass's row, then the device (an advisory lock), so
// registrations of one pass or one device run one after the other: the
// limits hold, and of concurrent registrations of one device for one pass
// the first creates it and the others update it.
func (s *Store) Register(ctx context.Context, r applepass.Registration) (created bool, err error) {
	err = s.write(ctx, func(t *tx) error {
		created = false
		var one int
		err := t.scanRow(ctx, func(row pgx.Row) error { return row.Scan(&one) },
			"SELECT 1 FROM apple_passes WHERE pass_type_id = $1 AND serial = $2 FOR NO KEY UPDATE", r.PassTypeID, r.Serial)
		if err != nil {
			return lookupErr(err, "pass "+r.Serial)
		}
		if _, err := t.exec(ctx, "SELECT pg_advisory_xact_lock($1)", deviceLock(r.DeviceID)); err != nil {
			return fmt.Errorf("postgres: lock device: %w", err)
		}
		tag, err := t.exec(ctx, "UPDATE apple_registrations SET push_token = $4, created_at = $5 WHERE device_id = $1 AND pass_type_id = $2 AND serial = $3",
			r.DeviceID, r.PassTypeID, r.Serial, r.PushToken, r.CreatedAt)
		if err != nil {
			return fmt.Errorf("postgres: update registration: %w", err)
		}
		if tag.RowsAffected() > 0 {
			return nil // registered already: the token is updated
		}
		var perDevice, perPass int
		err = t.scanRow(ctx, func(row pgx.Row) error { return row.Scan(&perDevice, &perPass) }, `SELECT
			(SELECT count(*) FROM apple_registrations WHERE device_id = $1),
			(SELECT count(*) FROM apple_registrations WHERE pass_type_id = $2 AND serial = $3)`,
			r.DeviceID, r.PassTypeID, r.Serial)
		if err != nil {
			return fmt.Errorf("postgres: count registrations: %w", err)
		}
		if err := checkLimits(perDevice, perPass); err != nil {
			return err
		}
		tag, err = t.exec(ctx, `INSERT INTO apple_registrations (device_id, pass_type_id, serial, push_token, created_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, r.DeviceID, r.PassTypeID, r.Serial, r.PushToken, r.CreatedAt)
		if err != nil {
			return fmt.Errorf("postgres: register device: %w", err)
		}
		created = tag.RowsAffected() > 0
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
	n, err := s.delete(ctx, "DELETE FROM apple_registrations WHERE device_id = $1 AND pass_type_id = $2 AND serial = $3",
		deviceID, passTypeID, serial)
	return n > 0, err
}

// DeleteRegistrationsByToken removes the registrations of passTypeID with
// the push token created at or before before, and returns how many.
func (s *Store) DeleteRegistrationsByToken(ctx context.Context, passTypeID, pushToken string, before time.Time) (int, error) {
	return s.delete(ctx, "DELETE FROM apple_registrations WHERE pass_type_id = $1 AND push_token = $2 AND created_at <= $3",
		passTypeID, pushToken, before)
}

// delete runs a DELETE statement and returns how many rows it removed.
func (s *Store) delete(ctx context.Context, query string, args ...any) (int, error) {
	var n int64
	err := s.write(ctx, func(t *tx) error {
		tag, err := t.exec(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("postgres: delete registrations: %w", err)
		}
		n = tag.RowsAffected()
		return nil
	})
	return int(n), err
}

// UpdatedSince returns the sorted serial numbers of the passes of
// passTypeID the device is registered for that changed after since (all
// for a zero since), and the latest of their UpdatedAt (zero when none).
func (s *Store) UpdatedSince(ctx context.Context, deviceID, passTypeID string, since time.Time) (serials []string, last time.Time, err error) {
	type row struct {
		serial  string
		updated time.Time
	}
	rows, err := s.pool.Query(ctx, `SELECT serial, updated FROM (
			SELECT p.serial, greatest(p.created_at, a.updated_at) AS updated
			FROM apple_registrations r
			JOIN apple_passes p ON p.pass_type_id = r.pass_type_id AND p.serial = r.serial
			LEFT JOIN accounts a ON a.program_id = p.program_id AND a.member_id = p.member_id
			WHERE r.device_id = $1 AND r.pass_type_id = $2
		) u WHERE $3::timestamptz IS NULL OR updated > $3
		ORDER BY serial`, deviceID, passTypeID, nullTime(since))
	if err == nil {
		var got []row
		got, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var v row
			err := r.Scan(&v.serial, &v.updated)
			return v, err
		})
		for _, v := range got {
			serials = append(serials, v.serial)
			if v.updated.After(last) {
				last = v.updated
			}
		}
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("postgres: read updated passes: %w", err)
	}
	if len(serials) == 0 {
		return nil, time.Time{}, nil
	}
	return serials, last.UTC(), nil
}

// Registrations returns the registrations of a pass, oldest first; none
// when the pass does not exist.
func (s *Store) Registrations(ctx context.Context, passTypeID, serial string) ([]applepass.Registration, error) {
	return registrations(ctx, s.pool, passTypeID, serial)
}

// registrations reads the registrations of a pass through q, oldest first;
// none when the pass does not exist.
func registrations(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, passTypeID, serial string) ([]applepass.Registration, error) {
	rows, err := q.Query(ctx, `SELECT device_id, push_token, created_at FROM apple_registrations
		WHERE pass_type_id = $1 AND serial = $2 ORDER BY created_at, device_id`, passTypeID, serial)
	var out []applepass.Registration
	if err == nil {
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (applepass.Registration, error) {
			r := applepass.Registration{PassTypeID: passTypeID, Serial: serial}
			err := row.Scan(&r.DeviceID, &r.PushToken, &r.CreatedAt)
			r.CreatedAt = r.CreatedAt.UTC()
			return r, err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read registrations of pass %s: %w", serial, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
