package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/treue/treue/loyalty"
)

// PutDevice creates d, or updates the device with d's token in d's program:
// it moves it to d.MemberID and keeps its RegisteredAt. It returns
// ErrNotFound when the member does not exist or was erased.
func (t *tx) PutDevice(ctx context.Context, d loyalty.Device) error {
	// The WHERE also tells SQLite that ON CONFLICT is the upsert's.
	res, err := t.tx.ExecContext(stmtContext(ctx), `INSERT INTO devices
		(program_id, token, member_id, platform, locale, app_version, time_zone, registered_at, seen_at)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
		WHERE EXISTS (SELECT 1 FROM members WHERE program_id = ?1 AND id = ?3 AND erased_at IS NULL)
		ON CONFLICT (program_id, token) DO UPDATE SET member_id = excluded.member_id, platform = excluded.platform,
			locale = excluded.locale, app_version = excluded.app_version, time_zone = excluded.time_zone,
			seen_at = excluded.seen_at`,
		d.ProgramID, d.Token, d.MemberID, string(d.Platform), string(d.Locale), d.AppVersion, d.TimeZone,
		micros(d.RegisteredAt), micros(d.SeenAt))
	if err != nil {
		return fmt.Errorf("sqlite: write device of member %s: %w", d.MemberID, err)
	}
	return mustAffect(res, "member "+d.MemberID+" of program "+d.ProgramID)
}

// Devices returns the member's devices, most recently seen first, then by
// token.
func (t *tx) Devices(ctx context.Context, programID, memberID string) ([]loyalty.Device, error) {
	rows, err := t.tx.QueryContext(stmtContext(ctx), `SELECT token, platform, locale, app_version, time_zone, registered_at, seen_at
		FROM devices WHERE program_id = ? AND member_id = ? ORDER BY seen_at DESC, token`, programID, memberID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read devices of member %s: %w", memberID, err)
	}
	defer rows.Close()
	var out []loyalty.Device
	for rows.Next() {
		d := loyalty.Device{ProgramID: programID, MemberID: memberID}
		var registered, seen int64
		if err := rows.Scan(&d.Token, &d.Platform, &d.Locale, &d.AppVersion, &d.TimeZone, &registered, &seen); err != nil {
			return nil, fmt.Errorf("sqlite: read devices of member %s: %w", memberID, err)
		}
		d.RegisteredAt, d.SeenAt = fromMicros(registered), fromMicros(seen)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read devices of member %s: %w", memberID, err)
	}
	return out, nil
}

// DeleteDevice removes the member's device with token and reports whether
// there was one.
func (t *tx) DeleteDevice(ctx context.Context, programID, memberID, token string) (bool, error) {
	res, err := t.tx.ExecContext(stmtContext(ctx), "DELETE FROM devices WHERE program_id = ? AND token = ? AND member_id = ?",
		programID, token, memberID)
	if err != nil {
		return false, fmt.Errorf("sqlite: delete device of member %s: %w", memberID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: delete device of member %s: %w", memberID, err)
	}
	return n > 0, nil
}

// deleteTokensChunk bounds the tokens of one DELETE statement, well below
// SQLite's limit of bound parameters.
const deleteTokensChunk = 500

// DeleteDeviceTokens removes the program's devices with these tokens,
// whoever they belong to, and returns how many it removed.
func (t *tx) DeleteDeviceTokens(ctx context.Context, programID string, tokens []string) (int, error) {
	removed := 0
	for chunk := range slices.Chunk(tokens, deleteTokensChunk) {
		args := make([]any, 0, 1+len(chunk))
		args = append(args, programID)
		for _, tok := range chunk {
			args = append(args, tok)
		}
		res, err := t.tx.ExecContext(stmtContext(ctx), "DELETE FROM devices WHERE program_id = ? AND token IN (?"+
			strings.Repeat(", ?", len(chunk)-1)+")", args...)
		if err != nil {
			return removed, fmt.Errorf("sqlite: delete devices of program %q: %w", programID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return removed, fmt.Errorf("sqlite: delete devices of program %q: %w", programID, err)
		}
		removed += int(n)
	}
	return removed, nil
}
