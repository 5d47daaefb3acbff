package googlepass

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/treue/treue/loyalty"
)

// WebPath is where Handler is served, below the public URL:
// WebPath+"/callbacks" receives Google's callbacks and WebPath+"/logo.png"
// is the program logo classes show.
const WebPath = "/google-wallet"

// HandlerConfig configures a Handler. Verifier and Store are required.
type HandlerConfig struct {
	Verifier *Verifier
	Store    Store
	// Saved, when set, is told of a pass saved to a wallet: the Syncer's
	// PassSaved, which writes the whole object.
	Saved func(programID, memberID string)
	// Logo is the PNG served as the program logo; nil serves none.
	Logo   []byte
	Logger *slog.Logger
}

// callbackTimeout bounds the work on one callback.
const callbackTimeout = 10 * time.Second

// NewHandler returns the handler of WebPath: it records Google's save and
// delete callbacks, so that only objects in members' wallets are synced,
// and serves the program logo. It panics without a Verifier or Store.
//
// A callback answers 200 when recorded (or when it names an object Treue
// does not know: retrying would not help), 400 when it does not verify,
// 503 when Google's keys cannot be fetched and 500 when the store fails, so
// that Google sends it again.
func NewHandler(cfg HandlerConfig) http.Handler {
	if cfg.Verifier == nil || cfg.Store == nil {
		panic("googlepass: NewHandler needs a Verifier and a Store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+WebPath+"/callbacks", h.callback)
	if cfg.Logo != nil {
		mux.HandleFunc("GET "+WebPath+"/logo.png", h.logo)
	}
	return mux
}

type handler struct {
	cfg HandlerConfig
}

func (h *handler) callback(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), callbackTimeout)
	defer cancel()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxCallbackBytes))
	if err != nil {
		http.Error(w, "callback body too large or unreadable", http.StatusBadRequest)
		return
	}
	msg, err := h.cfg.Verifier.Verify(ctx, body)
	switch {
	case errors.Is(err, ErrKeysUnavailable):
		h.cfg.Logger.Warn("googlepass: callback not verified: Google's keys are unavailable; Google will send it again", "err", err)
		http.Error(w, "cannot verify now", http.StatusServiceUnavailable)
		return
	case err != nil:
		h.cfg.Logger.Warn("googlepass: callback refused", "err", err, "remote", r.RemoteAddr)
		http.Error(w, "invalid callback", http.StatusBadRequest)
		return
	}
	pass, changed, err := h.cfg.Store.SetSaved(ctx, msg.ObjectID, msg.Saved, msg.Expires)
	switch {
	case errors.Is(err, loyalty.ErrNotFound):
		h.cfg.Logger.Warn("googlepass: callback about an object Treue has no link for", "object", msg.ObjectID, "saved", msg.Saved)
	case err != nil:
		h.cfg.Logger.Error("googlepass: cannot record a callback; Google will send it again", "object", msg.ObjectID, "err", err)
		http.Error(w, "cannot record the callback now", http.StatusInternalServerError)
		return
	default:
		h.cfg.Logger.Info("googlepass: pass saved or removed", "object", msg.ObjectID, "saved", msg.Saved, "changed", changed)
		if changed && pass.Saved && h.cfg.Saved != nil {
			h.cfg.Saved(pass.ProgramID, pass.MemberID)
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (h *handler) logo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(w, r, "logo.png", time.Time{}, bytes.NewReader(h.cfg.Logo))
}
