package googlepass_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/wallet/googlepass"
	"github.com/treue/treue/wallet/googlepass/fakegoogle"
)

// TestVoidEmptiesTheObject: after Void, Google's copy of an erased
// member's object is inactive and holds neither the card number nor the
// balance; voiding an object Google does not have succeeds.
func TestVoidEmptiesTheObject(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, googlepass.SyncerConfig{})
	card := e.member("erin")
	id := e.save("erin")
	e.earn(card, 1250, "bon-1")
	e.waitFor("a PATCH", func() bool { return len(e.requests(http.MethodPatch, fakegoogle.ObjectPath(id))) > 0 })
	e.idle()
	before, _ := e.wallet.Object(id)
	digits := strings.ReplaceAll(card.Member.CardNumber, " ", "")
	if !strings.Contains(string(before), digits) {
		t.Fatalf("object before Void lacks the card number %s: %s", loyalty.MaskCardNumber(digits), before)
	}
	if err := e.syncer.Void(e.ctx, id); err != nil {
		t.Fatal(err)
	}
	after, ok := e.wallet.Object(id)
	if !ok {
		t.Fatal("object gone: Google keeps voided objects")
	}
	for _, bad := range []string{digits, loyalty.GroupCardNumber(digits), `"loyaltyPoints"`, `"barcode"`, `"accountName"`} {
		if strings.Contains(string(after), bad) {
			t.Errorf("voided object still holds %s: %s", bad, after)
		}
	}
	if !strings.Contains(string(after), `"INACTIVE"`) {
		t.Errorf("voided object not inactive: %s", after)
	}
	if err := e.syncer.Void(e.ctx, "3388000000000000000.nobody"); err != nil {
		t.Errorf("Void of an unknown object: %v", err)
	}
}
