package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
)

// TestThreeVisitsEndToEnd is the demo café's "3 Besuche in 7 Tagen" over
// HTTP: a member activates it, the till posts three purchases, WatchCard
// shows 1/3 and 2/3, and the third purchase brings the bonus entry, with
// its reason, exactly once.
func TestThreeVisitsEndToEnd(t *testing.T) {
	base, _ := startTreued(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	auth := devAuth("carla")
	acct := treuev1connect.NewAccountServiceClient(http.DefaultClient, base, auth)
	enr, err := acct.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	cardNumber := enr.Msg.GetProfile().GetCard().GetCardNumber()

	challenges := treuev1connect.NewChallengeServiceClient(http.DefaultClient, base, auth)
	act, err := challenges.ActivateChallenge(ctx, connect.NewRequest(&treuev1.ActivateChallengeRequest{ChallengeId: "three-visits"}))
	if err != nil {
		t.Fatal(err)
	}
	if c := act.Msg.GetChallenge(); c.GetStatus() != treuev1.ChallengeStatus_CHALLENGE_STATUS_ACTIVE || c.GetProgress().GetTarget() != 3 {
		t.Fatalf("activated challenge = %v, want active with target 3", c)
	}

	cards := treuev1connect.NewCardServiceClient(h2cClient(), base, auth)
	stream, err := cards.WatchCard(ctx, connect.NewRequest(&treuev1.WatchCardRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	updates := make(chan *treuev1.CardUpdate, 16)
	go func() {
		defer close(updates)
		for stream.Receive() {
			if u := stream.Msg().GetUpdate(); u != nil {
				updates <- u
			}
		}
	}()
	next := func() *treuev1.CardUpdate {
		t.Helper()
		select {
		case u, ok := <-updates:
			if !ok {
				t.Fatalf("stream ended: %v", stream.Err())
			}
			return u
		case <-ctx.Done():
			t.Fatal("no card update in time")
		}
		return nil
	}
	if u := next(); u.GetCause() != treuev1.CardUpdateCause_CARD_UPDATE_CAUSE_INITIAL {
		t.Fatalf("first update cause %v, want initial", u.GetCause())
	}

	pos := treuev1connect.NewPosServiceClient(http.DefaultClient, base, auth)
	const reason = "Challenge „3 Besuche in 7 Tagen“ geschafft"
	bonuses := 0
	for visit := 1; visit <= 3; visit++ {
		earn, err := pos.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
			CardNumber: cardNumber, AmountMinor: 450, Currency: "EUR", IdempotencyKey: fmt.Sprint("visit-", visit),
		}))
		if err != nil {
			t.Fatal(err)
		}
		u := next()
		for u.GetCard().GetBalance() != earn.Msg.GetBalance() {
			u = next() // a change of the same purchase seen in parts
		}
		var progress *treuev1.ChallengeProgress
		for _, p := range u.GetChallenges() {
			if p.GetChallengeId() == "three-visits" {
				progress = p
			}
		}
		want := fmt.Sprintf("%d von 3 Besuchen", visit)
		if progress.GetCurrent() != int64(visit) || progress.GetTarget() != 3 || progress.GetProgressText() != want {
			t.Errorf("visit %d: WatchCard shows %v, want %q", visit, progress, want)
		}
		for _, a := range u.GetActivities() {
			if a.GetReason() == reason {
				bonuses++
				if visit != 3 || a.GetKind() != treuev1.ActivityKind_ACTIVITY_KIND_BONUS || a.GetPoints() != 30 {
					t.Errorf("visit %d: bonus activity %v, want 30 points after the third visit", visit, a)
				}
			}
		}
	}
	if bonuses != 1 {
		t.Errorf("WatchCard streamed %d challenge bonuses, want 1", bonuses)
	}

	// The activity list holds the bonus once, and a retried purchase
	// grants nothing more.
	if _, err := pos.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
		CardNumber: cardNumber, AmountMinor: 450, Currency: "EUR", IdempotencyKey: "visit-3",
	})); err != nil {
		t.Fatal(err)
	}
	list, err := cards.ListActivity(ctx, connect.NewRequest(&treuev1.ListActivityRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range list.Msg.GetActivities() {
		if strings.HasPrefix(a.GetReason(), "Challenge „3 Besuche") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("activity list has %d challenge bonuses, want 1", n)
	}
	got, err := challenges.GetChallenge(ctx, connect.NewRequest(&treuev1.GetChallengeRequest{ChallengeId: "three-visits"}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Msg.GetChallenge().GetCompletions() != 1 {
		t.Errorf("completions = %d, want 1", got.Msg.GetChallenge().GetCompletions())
	}
}
