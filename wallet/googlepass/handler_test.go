package googlepass_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/assets"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/wallet/googlepass"
	"github.com/treue/treue/wallet/googlepass/fakegoogle"
)

// handlerEnv is a syncEnv with the callback handler served over HTTP,
// verifying callbacks against a fake Google's keys.
type handlerEnv struct {
	*syncEnv
	signer *fakegoogle.CallbackSigner
	keys   *httptest.Server
	srv    *httptest.Server
	nonce  int
}

func newHandlerEnv(t *testing.T) *handlerEnv {
	t.Helper()
	e := &handlerEnv{syncEnv: newSyncEnv(t, googlepass.SyncerConfig{})}
	var err error
	if e.signer, err = fakegoogle.NewCallbackSigner(); err != nil {
		t.Fatal(err)
	}
	if err := e.signer.SetIntermediateExpiry(e.clock.Now().Add(24 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.signer.SetRootKey(fakegoogle.CallbackProtocol, e.clock.Now().AddDate(1, 0, 0))
	e.keys = httptest.NewServer(e.signer.KeysHandler())
	verifier, err := googlepass.NewVerifier(googlepass.VerifierConfig{IssuerID: e.acct.IssuerID, KeysURL: e.keys.URL, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(googlepass.NewHandler(googlepass.HandlerConfig{
		Verifier: verifier, Store: e.passes, Saved: e.syncer.PassSaved, Logo: assets.GoogleWalletLogo,
	}))
	t.Cleanup(func() { e.srv.Close(); e.keys.Close() })
	return e
}

// callback posts a callback about the object, signed by Google's key, and
// returns the answer's status.
func (e *handlerEnv) callback(objectID, event string, expires time.Time) int {
	e.t.Helper()
	e.nonce++
	body, err := e.signer.Sign(e.acct.IssuerID, fakegoogle.Callback{
		ClassID:       googlepass.ClassID(e.acct.IssuerID, testProgram),
		ObjectID:      objectID,
		EventType:     event,
		ExpTimeMillis: expires.UnixMilli(),
		Count:         1,
		Nonce:         fmt.Sprintf("nonce-%d", e.nonce),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.post(body)
}

func (e *handlerEnv) post(body []byte) int {
	e.t.Helper()
	res, err := http.Post(e.srv.URL+googlepass.WebPath+"/callbacks", "application/json", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestCallbacksDecideWhatIsSynced: a save callback records the pass as
// saved and writes the whole object at once; while saved, earns patch it;
// after a delete callback they do not; stale and replayed callbacks change
// nothing.
func TestCallbacksDecideWhatIsSynced(t *testing.T) {
	t.Parallel()
	e := newHandlerEnv(t)
	card := e.member("alice")
	_, id, err := e.links.SaveLink(e.ctx, loyalty.Customer{ProgramID: testProgram, UID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	e.earn(card, 100, "bon-1")
	e.idle()
	if n := len(e.wallet.Requests()); n != 0 {
		t.Fatalf("%d requests before the pass was saved", n)
	}

	saveExp := e.clock.Now().Add(time.Hour)
	if st := e.callback(id, "save", saveExp); st != http.StatusOK {
		t.Fatalf("save callback: %d", st)
	}
	// Google has no object yet here: the sync inserts the whole one.
	e.waitFor("the object", func() bool { _, ok := e.wallet.Object(id); return ok })
	obj, _ := e.wallet.Object(id)
	if !bytes.Contains(obj, []byte(`"accountId":"`+card.Member.CardNumber+`"`)) {
		t.Fatalf("object %s: want the member's card", obj)
	}
	p, err := e.passes.Pass(e.ctx, testProgram, card.Member.ID)
	if err != nil || !p.Saved {
		t.Fatalf("pass %+v, %v: want saved", p, err)
	}
	e.idle()
	balance := e.earn(card, 1000, "bon-2")
	e.waitFor("a PATCH", func() bool {
		r := e.requests(http.MethodPatch, fakegoogle.ObjectPath(id))
		return len(r) > 0 && patchedBalance(t, r[len(r)-1].Body) == balance
	})

	if st := e.callback(id, "del", saveExp.Add(time.Minute)); st != http.StatusOK {
		t.Fatalf("delete callback: %d", st)
	}
	// A save older than the delete, delivered late, changes nothing.
	if st := e.callback(id, "save", saveExp.Add(30*time.Second)); st != http.StatusOK {
		t.Fatalf("late save callback: %d", st)
	}
	if p, _ := e.passes.Pass(e.ctx, testProgram, card.Member.ID); p.Saved {
		t.Fatal("pass saved after a delete and a stale save")
	}
	e.idle()
	before := len(e.wallet.Requests())
	e.earn(card, 1000, "bon-3")
	e.idle()
	if n := len(e.wallet.Requests()) - before; n != 0 {
		t.Fatalf("%d requests after the pass was deleted", n)
	}
}

// TestCallbackAnswers: what Google gets back for bad, foreign and
// unverifiable callbacks.
func TestCallbackAnswers(t *testing.T) {
	t.Parallel()
	e := newHandlerEnv(t)
	e.member("alice")
	_, id, err := e.links.SaveLink(e.ctx, loyalty.Customer{ProgramID: testProgram, UID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	exp := e.clock.Now().Add(time.Hour)
	good, err := e.signer.Sign(e.acct.IssuerID, fakegoogle.Callback{ClassID: googlepass.ClassID(e.acct.IssuerID, testProgram), ObjectID: id, EventType: "save", ExpTimeMillis: exp.UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(good, []byte(`save`), []byte(`del\"`), 1)
	if st := e.post(tampered); st != http.StatusBadRequest {
		t.Errorf("tampered callback: %d, want 400", st)
	}
	if st := e.post([]byte(strings.Repeat("x", googlepass.MaxCallbackBytes+1))); st != http.StatusBadRequest {
		t.Errorf("oversized callback: %d, want 400", st)
	}
	if st := e.callback(googlepass.ObjectID(e.acct.IssuerID, testProgram, "nobody"), "save", exp); st != http.StatusOK {
		t.Errorf("callback about an unknown object: %d, want 200 (nothing to retry)", st)
	}
	if p, _ := e.passes.PassByObject(e.ctx, id); p.Saved {
		t.Fatal("a refused callback saved the pass")
	}
	if st := e.post(good); st != http.StatusOK {
		t.Errorf("good callback: %d", st)
	}
	if p, _ := e.passes.PassByObject(e.ctx, id); !p.Saved {
		t.Fatal("the good callback did not save the pass")
	}
	res, err := http.Get(e.srv.URL + googlepass.WebPath + "/logo.png")
	if err != nil {
		t.Fatal(err)
	}
	logo, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" || !bytes.Equal(logo, assets.GoogleWalletLogo) {
		t.Fatalf("logo: %d %q, %d bytes", res.StatusCode, res.Header.Get("Content-Type"), len(logo))
	}
}

// TestCallbackKeysUnavailable: when Google's keys cannot be fetched the
// callback is answered 503, so Google sends it again; once they are
// back, it is recorded.
func TestCallbackKeysUnavailable(t *testing.T) {
	t.Parallel()
	e := newHandlerEnv(t)
	e.member("alice")
	_, id, err := e.links.SaveLink(e.ctx, loyalty.Customer{ProgramID: testProgram, UID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	e.signer.FailKeys(true)
	if st := e.callback(id, "save", e.clock.Now().Add(time.Hour)); st != http.StatusServiceUnavailable {
		t.Fatalf("callback with keys down: %d, want 503", st)
	}
	e.signer.FailKeys(false)
	// The verifier waits a little before asking Google again.
	e.clock.Advance(time.Minute)
	if st := e.callback(id, "save", e.clock.Now().Add(time.Hour)); st != http.StatusOK {
		t.Fatalf("callback with keys back: %d, want 200", st)
	}
}
