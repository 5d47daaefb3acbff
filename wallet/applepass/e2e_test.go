package applepass_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/treue/treue/wallet/applepass"
)

// TestPurchaseUpdatesPassOnDevices is Wallet's whole update cycle over real
// HTTP: two devices register a pass with the web service, a purchase posts,
// the fake APNs gets exactly one push per device, and a device that asks
// what changed and fetches the pass gets the new balance.
func TestPurchaseUpdatesPassOnDevices(t *testing.T) {
	e := newWebEnv(t)
	apns := newFakeAPNs(t, e.passes.PassTypeID())
	pusher := applepass.NewPusher(applepass.PusherConfig{
		Store: e.store, Notifier: apns.notifier(), PassTypeID: e.passes.PassTypeID(), Coalesce: 100 * time.Millisecond,
	})
	e.hook = pusher.CardsChanged
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		pusher.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	_, card, alice := e.member("alice")
	e.member("bob") // no devices: no pushes
	tokens := []string{randomHex(32), randomHex(32)}
	for i, device := range []string{"iphone", "ipad"} {
		wantStatus(t, e.call("POST", regPath(device, alice.Record), alice.Record.AuthToken, `{"pushToken":"`+tokens[i]+`"}`), http.StatusCreated)
	}
	e.clock.Advance(time.Minute)
	var list struct {
		SerialNumbers []string `json:"serialNumbers"`
		LastUpdated   string   `json:"lastUpdated"`
	}
	if err := json.Unmarshal(wantStatus(t, e.call("GET", "/v1/devices/iphone/registrations/"+alice.Record.PassTypeID, "", ""), http.StatusOK), &list); err != nil {
		t.Fatal(err)
	}
	passPath := "/v1/passes/" + alice.Record.PassTypeID + "/" + alice.Record.Serial
	res := e.call("GET", passPath, alice.Record.AuthToken, "")
	if b := passBalance(t, wantStatus(t, res, http.StatusOK)); b != 0 {
		t.Fatalf("balance on the new pass %v", b)
	}
	lastModified := res.Header.Get("Last-Modified")

	e.clock.Advance(time.Minute)
	earned := e.earn(card, 12_50)
	e.earn(e.memberCard("bob"), 5_00)
	apns.waitPushes(2)
	time.Sleep(300 * time.Millisecond) // a third push would come within the coalescing window
	pushes := apns.received()
	got := []string{pushes[0].Token, pushes[len(pushes)-1].Token}
	slices.Sort(got)
	want := slices.Clone(tokens)
	slices.Sort(want)
	if len(pushes) != 2 || !slices.Equal(got, want) {
		t.Fatalf("pushes %+v; want one to each of alice's devices", pushes)
	}
	for _, p := range pushes {
		if p.Topic != e.passes.PassTypeID() || p.Status != http.StatusOK {
			t.Fatalf("push %+v", p)
		}
	}

	// The device asks what changed since its tag, then fetches the pass.
	var changed struct {
		SerialNumbers []string `json:"serialNumbers"`
	}
	if err := json.Unmarshal(wantStatus(t, e.call("GET", "/v1/devices/iphone/registrations/"+alice.Record.PassTypeID+"?passesUpdatedSince="+list.LastUpdated, "", ""), http.StatusOK), &changed); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(changed.SerialNumbers, []string{alice.Record.Serial}) {
		t.Fatalf("changed serials %v", changed.SerialNumbers)
	}
	res = e.call("GET", passPath, alice.Record.AuthToken, "", "If-Modified-Since", lastModified)
	if b := passBalance(t, wantStatus(t, res, http.StatusOK)); b != float64(earned.Balance) {
		t.Fatalf("balance on the fetched pass %v, want %d", b, earned.Balance)
	}
}
