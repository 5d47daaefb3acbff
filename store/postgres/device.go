package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
)

// PutDevice creates d, or updates the device with d's token in d's program:
// it moves it to d.MemberID and keeps its RegisteredAt. It returns
// ErrNotFound when the member does not exist or was erased: a registration
// that waited for the member's devices (Devices in Update) while the member
// was erased stores nothing.
func (t *tx) PutDevice(ctx context.Context, d loyalty.Device) error {
	tag, err := t.exec(ctx, `INSERT INTO devices
		(program_id, token, member_id, platform, locale, app_version, time_zone, registered_at, seen_at)
		SELECT m.program_id, $2, m.id, $4, $5, $6, $7, $8::timestamptz, $9::timestamptz
		FROM members m WHERE m.program_id = $1 AND m.id = $3 AND m.erased_at IS NULL
		ON CONFLICT (program_id, token) DO UPDATE SET member_id = excluded.member_id, platform = excluded.platform,
			locale = excluded.locale, app_version = excluded.app_version, time_zone = excluded.time_zone,
			seen_at = excluded.seen_at`,
		d.ProgramID, d.Token, d.MemberID, string(d.Platform), string(d.Locale), d.AppVersion, d.TimeZone,
		d.RegisteredAt, d.SeenAt)
	if err != nil {
		return fmt.Errorf("postgres: write device of member %s: %w", d.MemberID, err)
	}
	return mustAffect(tag, "member "+d.MemberID+" of program "+d.ProgramID)
}

// Devices returns the member's devices, most recently seen first, then by
// token. In Update it locks the member's devices (an advisory lock) until
// the transaction ends, so that concurrent registrations of one member
// count each other's devices.
func (t *tx) Devices(ctx context.Context, programID, memberID string) ([]loyalty.Device, error) {
	if err := t.lockMember(ctx, "devices", programID, memberID); err != nil {
		return nil, err
	}
	scan := func(row pgx.Row) (loyalty.Device, error) {
		d := loyalty.Device{ProgramID: programID, MemberID: memberID}
		var registered, seen time.Time
		if err := row.Scan(&d.Token, &d.Platform, &d.Locale, &d.AppVersion, &d.TimeZone, &registered, &seen); err != nil {
			return loyalty.Device{}, err
		}
		d.RegisteredAt, d.SeenAt = registered.UTC(), seen.UTC()
		return d, nil
	}
	out, err := collect(ctx, t, scan, `SELECT token, platform, locale, app_version, time_zone, registered_at, seen_at
		FROM devices WHERE program_id = $1 AND member_id = $2 ORDER BY seen_at DESC, token`, programID, memberID)
	if err != nil {
		return nil, fmt.Errorf("postgres: read devices of member %s: %w", memberID, err)
	}
	return out, nil
}

// DeleteDevice removes the member's device with token and reports whether
// there was one.
func (t *tx) DeleteDevice(ctx context.Context, programID, memberID, token string) (bool, error) {
	tag, err := t.exec(ctx, "DELETE FROM devices WHERE program_id = $1 AND token = $2 AND member_id = $3",
		programID, token, memberID)
	if err != nil {
		return false, fmt.Errorf("postgres: delete device of member %s: %w", memberID, err)
	}
	return tag.RowsAffected() > 0, nil
}

// deleteTokensChunk bounds the tokens of one DELETE statement.
const deleteTokensChunk = 500

// DeleteDeviceTokens removes the program's devices with these tokens,
// whoever they belong to, and returns how many it removed.
func (t *tx) DeleteDeviceTokens(ctx context.Context, programID string, tokens []string) (int, error) {
	removed := 0
	for chunk := range slices.Chunk(tokens, deleteTokensChunk) {
		tag, err := t.exec(ctx, "DELETE FROM devices WHERE program_id = $1 AND token = ANY($2)", programID, chunk)
		if err != nil {
			return removed, fmt.Errorf("postgres: delete devices of program %q: %w", programID, err)
		}
		removed += int(tag.RowsAffected())
	}
	return removed, nil
}
