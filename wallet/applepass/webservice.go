package applepass

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/redact"
)

// Limits of the web service's input.
const (
	maxRegistrationBody = 4 << 10
	maxLogBody          = 64 << 10
	maxLogEntries       = 20
	maxLogEntryChars    = 512
)

var (
	// Device library identifiers and serial numbers are opaque; these
	// bound them to what Wallet and Treue make.
	validDeviceID  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	validSerial    = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	validPushToken = regexp.MustCompile(`^[0-9a-fA-F]{16,200}$`)
)

// recentMargin is how long after a change its pass's Last-Modified and
// update tags stay behind it. HTTP dates have whole seconds and replicas'
// clocks differ a little, so a change made in the same second as a fetch,
// or stamped by a slightly slow clock, must still look newer than what the
// device got.
const recentMargin = 2 * time.Second

// WebServicePath returns the path the web service is served under, the
// path of the configured web service URL (e.g. "/passkit").
func (s *Service) WebServicePath() string {
	u, _ := url.Parse(s.cfg.WebServiceURL) // checked by NewService
	return strings.TrimSuffix(u.Path, "/")
}

// WebService returns the handler of the PassKit web service (Apple's "Wallet
// web service" reference) under WebServicePath, and of download links:
//
//	POST   /v1/devices/{device}/registrations/{passType}/{serial}  register a device (201 new, 200 known)
//	DELETE /v1/devices/{device}/registrations/{passType}/{serial}  unregister it (200)
//	GET    /v1/devices/{device}/registrations/{passType}?passesUpdatedSince=tag  serials updated since tag (200, or 204 when none)
//	GET    /v1/passes/{passType}/{serial}  the latest pass (200, or 304 when unchanged since If-Modified-Since)
//	POST   /v1/log  messages from devices, logged
//	GET    /download/{serial}.pkpass?expires=…&signature=…  a download link (DownloadURL)
//
// Calls about one pass need `Authorization: ApplePass <authenticationToken>`
// of that pass and get 401 otherwise. Registrations are rate limited per
// device and per pass (429 with Retry-After).
func (s *Service) WebService() http.Handler {
	p := s.WebServicePath()
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+p+"/v1/devices/{device}/registrations/{passType}/{serial}", s.register)
	mux.HandleFunc("DELETE "+p+"/v1/devices/{device}/registrations/{passType}/{serial}", s.unregister)
	mux.HandleFunc("GET "+p+"/v1/devices/{device}/registrations/{passType}", s.updatedSerials)
	mux.HandleFunc("GET "+p+"/v1/passes/{passType}/{serial}", s.latestPass)
	mux.HandleFunc("POST "+p+"/v1/log", s.deviceLog)
	mux.HandleFunc("GET "+p+"/download/{file}", s.download)
	return mux
}

// authorize returns the pass the request names when its Authorization
// header carries that pass's token. Otherwise it answers 401 (or 404 for a
// pass type that is not ours) and returns false.
func (s *Service) authorize(w http.ResponseWriter, r *http.Request) (Record, bool) {
	passType, serial := r.PathValue("passType"), r.PathValue("serial")
	if passType != s.PassTypeID() {
		http.Error(w, "unknown pass type", http.StatusNotFound)
		return Record{}, false
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "ApplePass ")
	var rec Record
	var err error
	if ok && validSerial.MatchString(serial) {
		rec, err = s.cfg.Store.PassBySerial(r.Context(), passType, serial)
	} else {
		err = loyalty.ErrNotFound
	}
	switch {
	case err != nil && !errors.Is(err, loyalty.ErrNotFound):
		s.internalError(w, r, "look up pass", err)
		return Record{}, false
	case err != nil:
		// Compare anyway, so that an unknown serial takes as long as a
		// wrong token.
		rec = Record{AuthToken: strings.Repeat("0", 64)}
		ok = false
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(rec.AuthToken)) != 1 || !ok {
		w.Header().Set("WWW-Authenticate", "ApplePass")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return Record{}, false
	}
	return rec, true
}

func (s *Service) register(w http.ResponseWriter, r *http.Request) {
	device := r.PathValue("device")
	if !validDeviceID.MatchString(device) {
		http.Error(w, "malformed device library identifier", http.StatusBadRequest)
		return
	}
	rec, ok := s.authorize(w, r)
	if !ok {
		return
	}
	if wait := s.limit.allow(regBurst, regEvery, "device:"+device, "pass:"+rec.Serial); wait > 0 {
		tooMany(w, wait)
		return
	}
	var body struct {
		PushToken string `json:"pushToken"`
	}
	if err := decodeJSON(w, r, maxRegistrationBody, &body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !validPushToken.MatchString(body.PushToken) {
		http.Error(w, "pushToken must be 16 to 200 hex digits", http.StatusBadRequest)
		return
	}
	created, err := s.cfg.Store.Register(r.Context(), Registration{
		DeviceID: device, PassTypeID: rec.PassTypeID, Serial: rec.Serial,
		PushToken: body.PushToken, CreatedAt: s.cfg.Now().UTC().Truncate(time.Microsecond),
	})
	switch {
	case errors.Is(err, ErrTooManyRegistrations):
		http.Error(w, fmt.Sprintf("a pass has at most %d devices and a device at most %d passes", MaxDevicesPerPass, MaxPassesPerDevice), http.StatusForbidden)
	case err != nil:
		s.internalError(w, r, "register device", err)
	case created:
		s.cfg.Logger.InfoContext(r.Context(), "applepass: device registered", "serial", rec.Serial)
		w.WriteHeader(http.StatusCreated)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

func (s *Service) unregister(w http.ResponseWriter, r *http.Request) {
	device := r.PathValue("device")
	if !validDeviceID.MatchString(device) {
		http.Error(w, "malformed device library identifier", http.StatusBadRequest)
		return
	}
	rec, ok := s.authorize(w, r)
	if !ok {
		return
	}
	if _, err := s.cfg.Store.Unregister(r.Context(), device, rec.PassTypeID, rec.Serial); err != nil {
		s.internalError(w, r, "unregister device", err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// updatedSerials answers which of the device's passes changed since a tag.
// Wallet asks it without credentials, so it reveals only opaque serials of
// passes registered on that device.
func (s *Service) updatedSerials(w http.ResponseWriter, r *http.Request) {
	device, passType := r.PathValue("device"), r.PathValue("passType")
	if !validDeviceID.MatchString(device) {
		http.Error(w, "malformed device library identifier", http.StatusBadRequest)
		return
	}
	if passType != s.PassTypeID() {
		http.Error(w, "unknown pass type", http.StatusNotFound)
		return
	}
	since, err := parseTag(r.URL.Query().Get("passesUpdatedSince"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	serials, last, err := s.cfg.Store.UpdatedSince(r.Context(), device, passType, since)
	if err != nil {
		s.internalError(w, r, "list updated passes", err)
		return
	}
	if len(serials) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	// A change stamped slightly in the past by another replica must still
	// be after the next tag: stay recentMargin behind now.
	tag := last
	if horizon := s.cfg.Now().Add(-recentMargin); tag.After(horizon) {
		tag = horizon
	}
	if tag.Before(since) {
		tag = since
	}
	writeJSON(w, http.StatusOK, struct {
		SerialNumbers []string `json:"serialNumbers"`
		LastUpdated   string   `json:"lastUpdated"`
	}{serials, formatTag(tag)})
}

// parseTag reads an update tag: Unix microseconds, or empty for the start.
func parseTag(tag string) (time.Time, error) {
	if tag == "" {
		return time.Time{}, nil
	}
	us, err := strconv.ParseInt(tag, 10, 64)
	if err != nil || us < 0 {
		return time.Time{}, errors.New("malformed passesUpdatedSince")
	}
	return time.UnixMicro(us).UTC(), nil
}

func formatTag(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

// lastModified returns the Last-Modified time of a pass updated at
// updated, as served at now: its second, or earlier while a change in the
// same second could still follow.
func lastModified(updated, now time.Time) time.Time {
	lm := updated.UTC().Truncate(time.Second)
	if now.Sub(updated) < recentMargin {
		lm = lm.Add(-recentMargin)
	}
	return lm
}

func (s *Service) latestPass(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.authorize(w, r)
	if !ok {
		return
	}
	lm := lastModified(rec.UpdatedAt, s.cfg.Now())
	if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !rec.UpdatedAt.Truncate(time.Second).After(ims) {
		w.Header().Set("Last-Modified", ims.UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.servePass(w, r, rec, lm)
}

func (s *Service) download(w http.ResponseWriter, r *http.Request) {
	serial, ok := strings.CutSuffix(r.PathValue("file"), ".pkpass")
	if !ok || !validSerial.MatchString(serial) {
		http.NotFound(w, r)
		return
	}
	rec, err := s.cfg.Store.PassBySerial(r.Context(), s.PassTypeID(), serial)
	switch {
	case errors.Is(err, loyalty.ErrNotFound):
		http.Error(w, "this link is not valid", http.StatusNotFound)
		return
	case err != nil:
		s.internalError(w, r, "look up pass", err)
		return
	}
	q := r.URL.Query()
	if !validDownload(rec, q.Get("expires"), q.Get("signature"), s.cfg.Now()) {
		http.Error(w, "this link is not valid or has expired; ask the app for a new one", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="card.pkpass"`)
	s.servePass(w, r, rec, lastModified(rec.UpdatedAt, s.cfg.Now()))
}

// servePass writes rec's pass as the member's card is now.
func (s *Service) servePass(w http.ResponseWriter, r *http.Request, rec Record, lm time.Time) {
	st, err := s.cfg.Cards.MemberCardState(r.Context(), loyalty.MemberKey{ProgramID: rec.ProgramID, MemberID: rec.MemberID})
	if err != nil {
		if errors.Is(err, loyalty.ErrNotFound) {
			// The member left; the pass stays on the device unupdated.
			http.Error(w, "this card no longer exists", http.StatusGone)
			return
		}
		s.internalError(w, r, "read card", err)
		return
	}
	pkpass, err := s.build(r.Context(), rec, st)
	if err != nil {
		s.internalError(w, r, "build pass", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Last-Modified", lm.UTC().Format(http.TimeFormat))
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Length", strconv.Itoa(len(pkpass)))
	w.WriteHeader(http.StatusOK)
	w.Write(pkpass)
}

func (s *Service) deviceLog(w http.ResponseWriter, r *http.Request) {
	if wait := s.limit.allow(deviceLogBurst, deviceLogEvery, logLimiterKeyID); wait > 0 {
		tooMany(w, wait)
		return
	}
	var body struct {
		Logs []string `json:"logs"`
	}
	if err := decodeJSON(w, r, maxLogBody, &body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for i, msg := range body.Logs {
		if i == maxLogEntries {
			s.cfg.Logger.WarnContext(r.Context(), "applepass: device log truncated", "entries", len(body.Logs))
			break
		}
		// Wallet's messages quote URLs with device library identifiers;
		// redacted before the cut, which could leave part of one.
		msg = redact.HexTokensIn(msg)
		if len(msg) > maxLogEntryChars {
			msg = msg[:maxLogEntryChars] + "…"
		}
		s.cfg.Logger.WarnContext(r.Context(), "applepass: device log", "message", msg)
	}
	w.WriteHeader(http.StatusOK)
}

// decodeJSON reads r's body, at most limit bytes, as JSON into v.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return fmt.Errorf("body: at most %d bytes", limit)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("body: malformed JSON: %v", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)+1))
	http.Error(w, "too many requests", http.StatusTooManyRequests)
}

func (s *Service) internalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.cfg.Logger.ErrorContext(r.Context(), "applepass: "+what, "path", redact.TokensIn(r.URL.Path, r.PathValue("device")), "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}
