package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"
	vk "github.com/valkey-io/valkey-go"
	_ "modernc.org/sqlite"

	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
	"github.com/treue/treue/realtime/valkey/valkeytest"
	"github.com/treue/treue/store/postgres/pgtest"
)

// TestDeleteMyAccountLeavesNoPersonalData: a member with everything Treue
// can hold (profile with consent, device, consents, referral code, a
// voucher, Apple and Google passes with a registered device, a cached and
// watched card) deletes their account; then a scan of every column of
// every table of the database, and of every key and value in Valkey, finds
// none of their personal values, while it still finds another member's
// (so the scan can fail), and the program's balances add up as before. On
// SQLite and PostgreSQL, both with Valkey.
func TestDeleteMyAccountLeavesNoPersonalData(t *testing.T) {
	valkeyAddr := valkeytest.Addr(t)
	t.Run("sqlite", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		db := func(t *testing.T) scanner {
			d, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "treue.db")+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			return sqliteScanner{d}
		}
		testErasure(t, map[string]string{
			"TREUE_DEV": "true", "TREUE_DATA_DIR": dir, "TREUE_VALKEY_ADDR": valkeyAddr, "TREUE_VALKEY_PREFIX": valkeytest.Prefix(t, valkeyAddr),
		}, db)
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.NewDatabase(t, nil)
		db := func(t *testing.T) scanner {
			c, err := pgx.Connect(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close(context.Background()) })
			return pgScanner{c}
		}
		testErasure(t, map[string]string{
			"TREUE_DEV": "true", "TREUE_POSTGRES_URL": url, "TREUE_VALKEY_ADDR": valkeyAddr, "TREUE_VALKEY_PREFIX": valkeytest.Prefix(t, valkeyAddr),
		}, db)
	})
}

// member is one customer of the test and the values only they have.
type member struct {
	uid    string
	opts   connect.ClientOption
	card   string
	values []string
}

func testErasure(t *testing.T, env map[string]string, openDB func(*testing.T) scanner) {
	base, out := startTreued(t, env)
	ctx := context.Background()
	suffix := randomHex(t)
	gone := populateMember(t, base, "erase-"+suffix, "Zoë Löschmich "+suffix)
	kept := populateMember(t, base, "keep-"+suffix, "Karl Bleibt "+suffix)
	db := openDB(t)
	balances := func() int64 {
		t.Helper()
		n, err := db.sumBalances(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := balances()

	// A watch of the card is open and ends with the erasure.
	watch, err := treuev1connect.NewCardServiceClient(http.DefaultClient, base, gone.opts).WatchCard(ctx, connect.NewRequest(&treuev1.WatchCardRequest{}))
	if err != nil || !watch.Receive() {
		t.Fatalf("WatchCard: %v %v", err, watch.Err())
	}
	streamEnded := make(chan error, 1)
	go func() {
		for watch.Receive() {
		}
		streamEnded <- watch.Err()
	}()

	res, err := treuev1connect.NewPrivacyServiceClient(http.DefaultClient, base, gone.opts).DeleteMyAccount(ctx, connect.NewRequest(&treuev1.DeleteMyAccountRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	e := res.Msg.GetErasure()
	if e.GetVouchersVoided() != 1 || e.GetDevicesRemoved() != 1 || e.GetPassesRemoved() != 2 || e.GetBalanceKept() <= 0 {
		t.Errorf("erasure %v: want 1 voucher voided, 1 device, 2 passes and a balance kept", e)
	}
	select {
	case err := <-streamEnded:
		t.Logf("WatchCard ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Errorf("WatchCard still open 10 s after the erasure")
	}

	if after := balances(); after != before {
		t.Errorf("sum of balances %d after the erasure, %d before", after, before)
	}
	found, err := db.find(ctx, append(gone.values, kept.values...))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range gone.values {
		if where := found[v]; len(where) > 0 {
			t.Errorf("database still holds %q of the erased member in %v", v, where)
		}
	}
	for _, v := range kept.values {
		if len(found[v]) == 0 {
			t.Errorf("database lacks %q of the other member: the scan cannot see values", v)
		}
	}
	valkeyHits := scanValkey(t, env["TREUE_VALKEY_ADDR"], env["TREUE_VALKEY_PREFIX"], append(gone.values, kept.values...))
	for _, v := range gone.values {
		if len(valkeyHits[v]) > 0 {
			t.Errorf("Valkey still holds %q of the erased member in %v", v, valkeyHits[v])
		}
	}
	if len(valkeyHits[kept.uid]) == 0 {
		t.Errorf("Valkey lacks the other member's cached card: the scan cannot see keys")
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "erasure: Google Wallet object voided") {
		if time.Now().After(deadline) {
			t.Fatalf("the Google Wallet object was not voided:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Signing in again starts a new, empty membership.
	again, err := treuev1connect.NewAccountServiceClient(http.DefaultClient, base, gone.opts).Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	p := again.Msg.GetProfile()
	if !again.Msg.GetCreated() || p.GetCard().GetCardNumber() == gone.card || p.GetMemberId() == e.GetMemberId() || p.GetName() != "" {
		t.Errorf("enrolling again: created %v, profile %v; want a new member", again.Msg.GetCreated(), p)
	}
	t.Logf("erased %s: %d values of the erased member found nowhere; balances %d before and after", e.GetMemberId(), len(gone.values), before)
}

// populateMember enrols uid and gives them everything Treue keeps about a
// member, and returns the values only they have.
func populateMember(t *testing.T, base, uid, name string) member {
	t.Helper()
	ctx := context.Background()
	m := member{uid: uid, opts: devAuth(uid)}
	acct := treuev1connect.NewAccountServiceClient(http.DefaultClient, base, m.opts)
	enr, err := acct.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	m.card = enr.Msg.GetProfile().GetCard().GetCardNumber()
	for _, p := range []treuev1.ConsentPurpose{treuev1.ConsentPurpose_CONSENT_PURPOSE_PROFILE, treuev1.ConsentPurpose_CONSENT_PURPOSE_BIRTHDAY, treuev1.ConsentPurpose_CONSENT_PURPOSE_MARKETING_PUSH} {
		if _, err := acct.SetConsent(ctx, connect.NewRequest(&treuev1.SetConsentRequest{Purpose: p, Granted: true, TextVersion: "v1", Source: "app"})); err != nil {
			t.Fatal(err)
		}
	}
	email := "mail." + uid + "@example.org"
	if _, err := acct.UpdateProfile(ctx, connect.NewRequest(&treuev1.UpdateProfileRequest{
		Name: name, Email: email, Birthday: &treuev1.Birthday{Month: 5, Day: 17}, UpdateMask: []string{"name", "email", "birthday"},
	})); err != nil {
		t.Fatal(err)
	}
	token := "fcm-" + uid + "-token"
	if _, err := acct.RegisterDevice(ctx, connect.NewRequest(&treuev1.RegisterDeviceRequest{Device: &treuev1.Device{
		PushToken: token, Platform: treuev1.Platform_PLATFORM_ANDROID, Locale: treuev1.Locale_LOCALE_DE, AppVersion: "1.0.0", TimeZone: "Europe/Berlin",
	}})); err != nil {
		t.Fatal(err)
	}
	ref, err := acct.GetReferralCode(ctx, connect.NewRequest(&treuev1.GetReferralCodeRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	pos := treuev1connect.NewPosServiceClient(http.DefaultClient, base, m.opts)
	if _, err := pos.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
		CardNumber: m.card, AmountMinor: 12000, Currency: "EUR", IdempotencyKey: "bon-" + uid, ReceiptId: "R-" + randomHex(t),
	})); err != nil {
		t.Fatal(err)
	}
	if _, err := treuev1connect.NewRewardServiceClient(http.DefaultClient, base, m.opts).RedeemReward(ctx, connect.NewRequest(&treuev1.RedeemRewardRequest{
		RewardId: "ten-percent-off", IdempotencyKey: "redeem-" + uid,
	})); err != nil {
		t.Fatal(err)
	}
	wallet := treuev1connect.NewWalletServiceClient(http.DefaultClient, base, m.opts)
	google, err := wallet.GetGoogleWalletLink(ctx, connect.NewRequest(&treuev1.GetGoogleWalletLinkRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	apple, err := wallet.GetApplePass(ctx, connect.NewRequest(&treuev1.GetApplePassRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	authToken, _ := passJSON(t, apple.Msg.GetPkpass())["authenticationToken"].(string)
	sum := sha256.Sum256([]byte(uid))
	device, pushToken := "dev"+hex.EncodeToString(sum[:8]), hex.EncodeToString(sum[:])
	req, _ := http.NewRequest("POST", base+"/passkit/v1/devices/"+device+"/registrations/"+apple.Msg.GetPassTypeIdentifier()+"/"+apple.Msg.GetSerialNumber(),
		strings.NewReader(`{"pushToken":"`+pushToken+`"}`))
	req.Header.Set("Authorization", "ApplePass "+authToken)
	reg, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	reg.Body.Close()
	if reg.StatusCode != http.StatusCreated {
		t.Fatalf("register the pass: %d", reg.StatusCode)
	}
	// The card is read once, so that the cache holds it.
	if _, err := treuev1connect.NewCardServiceClient(http.DefaultClient, base, m.opts).GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{})); err != nil {
		t.Fatal(err)
	}
	m.values = []string{uid, m.card, name, email, token, ref.Msg.GetCode(),
		google.Msg.GetObjectId(), apple.Msg.GetSerialNumber(), authToken, device, pushToken}
	return m
}

func randomHex(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// scanner searches a whole database.
type scanner interface {
	// find returns, for each value, the "table.column" places whose text
	// holds it.
	find(ctx context.Context, values []string) (map[string][]string, error)
	sumBalances(ctx context.Context) (int64, error)
}

type sqliteScanner struct{ db *sql.DB }

func (s sqliteScanner) sumBalances(ctx context.Context) (n int64, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT coalesce(sum(balance), 0) FROM accounts`).Scan(&n)
	return n, err
}

func (s sqliteScanner) find(ctx context.Context, values []string) (map[string][]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'`)
	if err != nil {
		return nil, err
	}
	var cols [][2]string
	for rows.Next() {
		var c [2]string
		if err := rows.Scan(&c[0], &c[1]); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	found := map[string][]string{}
	for _, c := range cols {
		texts, err := queryTexts(ctx, s.db.QueryContext, fmt.Sprintf(`SELECT CAST(%q AS TEXT) FROM %q WHERE %q IS NOT NULL`, c[1], c[0], c[1]))
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", c[0], c[1], err)
		}
		note(found, values, c[0]+"."+c[1], texts)
	}
	return found, nil
}

func queryTexts(ctx context.Context, query func(context.Context, string, ...any) (*sql.Rows, error), q string) ([]string, error) {
	rows, err := query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var texts []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		texts = append(texts, v)
	}
	return texts, rows.Err()
}

type pgScanner struct{ c *pgx.Conn }

func (s pgScanner) sumBalances(ctx context.Context) (n int64, err error) {
	err = s.c.QueryRow(ctx, `SELECT coalesce(sum(balance), 0)::bigint FROM accounts`).Scan(&n)
	return n, err
}

func (s pgScanner) find(ctx context.Context, values []string) (map[string][]string, error) {
	rows, err := s.c.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`)
	if err != nil {
		return nil, err
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var c [2]string
		return c, r.Scan(&c[0], &c[1])
	})
	if err != nil {
		return nil, err
	}
	found := map[string][]string{}
	for _, c := range cols {
		q := fmt.Sprintf(`SELECT %s::text FROM %s WHERE %s IS NOT NULL`, pgx.Identifier{c[1]}.Sanitize(), pgx.Identifier{c[0]}.Sanitize(), pgx.Identifier{c[1]}.Sanitize())
		rows, err := s.c.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", c[0], c[1], err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", c[0], c[1], err)
		}
		note(found, values, c[0]+"."+c[1], texts)
	}
	return found, nil
}

// note adds place to found[v] for each value v some text holds; card
// numbers are also looked for without their spaces.
func note(found map[string][]string, values []string, place string, texts []string) {
	for _, v := range values {
		plain := strings.ReplaceAll(v, " ", "")
		if slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(s, v) || strings.Contains(s, plain) }) {
			found[v] = append(found[v], place)
		}
	}
}

// scanValkey returns, for each value, the keys of the prefix whose name or
// value holds it.
func scanValkey(t *testing.T, addr, prefix string, values []string) map[string][]string {
	t.Helper()
	c, err := vk.NewClient(vk.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	found := map[string][]string{}
	var cursor uint64
	for {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range e.Elements {
			v, err := c.Do(ctx, c.B().Get().Key(k).Build()).ToString()
			if err != nil && !vk.IsValkeyNil(err) {
				v = "" // not a string key; its name is still scanned
			}
			note(found, values, k, []string{k, v})
		}
		if cursor = e.Cursor; cursor == 0 {
			return found
		}
	}
}
