package googlepass_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/store/storetest"
	"github.com/treue/treue/wallet/googlepass"
)

// TestServiceSaveLink: a member's link, made from their card in a real
// store, verifies with the account's public key and carries their object
// and only theirs, with their balance.
func TestServiceSaveLink(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "treue.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := storetest.NewClock(time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC))
	svc := loyalty.NewService(st, loyalty.WithClock(clock.Now))
	if err := svc.ApplySeed(ctx, storetest.DemoSeed("cafe")); err != nil {
		t.Fatal(err)
	}
	till, err := svc.AuthenticateTill(ctx, storetest.TillKey("cafe"))
	if err != nil {
		t.Fatal(err)
	}
	acct, _, err := googlepass.LoadOrCreateDevAccount(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	links, err := googlepass.NewService(googlepass.Config{Account: acct, Cards: svc, Store: st.GooglePasses(), Origins: []string{"https://app.example"}, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	members := map[string]loyalty.Card{}
	for _, uid := range []string{"alice", "bob"} {
		c := loyalty.Customer{ProgramID: "cafe", UID: uid}
		if _, _, err := links.SaveLink(ctx, c); !errors.Is(err, loyalty.ErrNotEnrolled) {
			t.Fatalf("SaveLink before enrolling: %v", err)
		}
		card, _, err := svc.Enroll(ctx, c, loyalty.LocaleDE)
		if err != nil {
			t.Fatal(err)
		}
		members[uid] = card
	}
	earned, err := svc.Earn(ctx, till, loyalty.EarnRequest{CardNumber: members["alice"].Member.CardNumber, AmountMinor: 4250, Currency: "EUR", IdempotencyKey: "bon-1"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for uid, card := range members {
		link, id, err := links.SaveLink(ctx, loyalty.Customer{ProgramID: "cafe", UID: uid})
		if err != nil {
			t.Fatal(err)
		}
		if want := googlepass.ObjectID(acct.IssuerID, "cafe", card.Member.ID); id != want {
			t.Fatalf("%s: object id %q, want %q", uid, id, want)
		}
		token := saveLinkJWT(t, link)
		if _, err := verifySaveLinkJWT(token, &acct.Key.PublicKey, acct.Email, clock.Now()); err != nil {
			t.Fatalf("%s: %v", uid, err)
		}
		var claims struct {
			Origins []string `json:"origins"`
			Payload struct {
				LoyaltyObjects []struct {
					ID            string `json:"id"`
					AccountID     string `json:"accountId"`
					LoyaltyPoints struct {
						Balance struct {
							Int *int64 `json:"int"`
						} `json:"balance"`
					} `json:"loyaltyPoints"`
				} `json:"loyaltyObjects"`
			} `json:"payload"`
		}
		if err := json.Unmarshal(decodeJWTPart(t, token, 1), &claims); err != nil {
			t.Fatal(err)
		}
		objs := claims.Payload.LoyaltyObjects
		if len(objs) != 1 || objs[0].ID != id || objs[0].AccountID != card.Member.CardNumber || objs[0].LoyaltyPoints.Balance.Int == nil {
			t.Fatalf("%s: payload %+v; want exactly their object", uid, claims.Payload)
		}
		want := int64(0)
		if uid == "alice" {
			want = earned.Balance
		}
		if got := *objs[0].LoyaltyPoints.Balance.Int; got != want {
			t.Fatalf("%s: balance %d in the link, want %d", uid, got, want)
		}
		if seen[id] {
			t.Fatalf("two members share object %s", id)
		}
		seen[id] = true
		if len(claims.Origins) != 1 || claims.Origins[0] != "https://app.example" {
			t.Fatalf("origins %v", claims.Origins)
		}
	}
}
