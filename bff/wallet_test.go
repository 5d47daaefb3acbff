package bff_test

import (
	"context"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/treue/treue/assets"
	"github.com/treue/treue/bff"
	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/realtime/memory"
	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/wallet/applepass"
)

// newWalletEnv returns an env whose server issues development Apple passes.
func newWalletEnv(t *testing.T) *env {
	t.Helper()
	st := openSQLite(t)
	id, _, _, err := applepass.LoadOrCreateDevIdentity(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	images, err := fs.Sub(assets.ApplePassImages, "applepass")
	if err != nil {
		t.Fatal(err)
	}
	files, err := applepass.Images(images)
	if err != nil {
		t.Fatal(err)
	}
	passes, err := applepass.NewService(applepass.Config{
		Store: st.(*sqlite.Store), Cards: loyalty.NewService(st), Identity: id, Images: files,
		WebServiceURL: "http://127.0.0.1:1/passkit", Development: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return newEnvWith(t, st, memory.New(), func(c *bff.Config) { c.ApplePasses = passes })
}

func TestGetApplePass(t *testing.T) {
	e := newWalletEnv(t)
	ctx := context.Background()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			alice := e.customer("alice-"+p.name, p)
			_, err := alice.wallet.GetApplePass(ctx, connect.NewRequest(&treuev1.GetApplePassRequest{}))
			checkCode(t, err, connect.CodeFailedPrecondition)
			_, err = alice.account.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
			mustOK(t, err)
			file, err := alice.wallet.GetApplePass(ctx, connect.NewRequest(&treuev1.GetApplePassRequest{Delivery: treuev1.ApplePassDelivery_APPLE_PASS_DELIVERY_FILE}))
			mustOK(t, err)
			m := file.Msg
			if len(m.GetPkpass()) < 1000 || m.GetContentType() != applepass.ContentType || !m.GetDevelopment() ||
				m.GetPassTypeIdentifier() != applepass.DevPassTypeID || len(m.GetSerialNumber()) != 32 || m.GetDownloadUrl() != "" {
				t.Fatalf("file delivery: %d bytes, %q, dev %v, type %q, serial %q, url %q", len(m.GetPkpass()), m.GetContentType(),
					m.GetDevelopment(), m.GetPassTypeIdentifier(), m.GetSerialNumber(), m.GetDownloadUrl())
			}
			link, err := alice.wallet.GetApplePass(ctx, connect.NewRequest(&treuev1.GetApplePassRequest{Delivery: treuev1.ApplePassDelivery_APPLE_PASS_DELIVERY_LINK}))
			mustOK(t, err)
			if link.Msg.GetSerialNumber() != m.GetSerialNumber() || len(link.Msg.GetPkpass()) != 0 ||
				!strings.HasPrefix(link.Msg.GetDownloadUrl(), "http://127.0.0.1:1/passkit/download/"+m.GetSerialNumber()+".pkpass?") ||
				link.Msg.GetDownloadUrlExpireTime() == nil {
				t.Fatalf("link delivery: %+v", link.Msg)
			}
			bob := e.customer("bob-"+p.name, p)
			_, err = bob.account.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
			mustOK(t, err)
			other, err := bob.wallet.GetApplePass(ctx, connect.NewRequest(&treuev1.GetApplePassRequest{}))
			mustOK(t, err)
			if other.Msg.GetSerialNumber() == m.GetSerialNumber() {
				t.Fatal("two members got the same pass")
			}
			_, err = alice.wallet.GetApplePass(ctx, connect.NewRequest(&treuev1.GetApplePassRequest{Delivery: 7}))
			checkCode(t, err, connect.CodeInvalidArgument)
		})
	}
	anon := e.customerWith(http.DefaultClient)
	_, err := anon.wallet.GetApplePass(ctx, connect.NewRequest(&treuev1.GetApplePassRequest{}))
	checkCode(t, err, connect.CodeUnauthenticated)
}

func TestGetApplePassUnconfigured(t *testing.T) {
	e := newEnv(t)
	alice := e.customer("alice", protocols[0])
	_, err := alice.account.Enroll(context.Background(), connect.NewRequest(&treuev1.EnrollRequest{}))
	mustOK(t, err)
	_, err = alice.wallet.GetApplePass(context.Background(), connect.NewRequest(&treuev1.GetApplePassRequest{}))
	checkCode(t, err, connect.CodeUnavailable)
	_, err = alice.wallet.GetGoogleWalletLink(context.Background(), connect.NewRequest(&treuev1.GetGoogleWalletLinkRequest{}))
	checkCode(t, err, connect.CodeUnavailable)
}
