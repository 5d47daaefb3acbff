package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/api/option"

	"github.com/treue/treue/assets"
	"github.com/treue/treue/bff"
	"github.com/treue/treue/cmd/internal/storage"
	"github.com/treue/treue/firebaseauth"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/realtime"
	"github.com/treue/treue/wallet/googlepass"
)

// server is treued's wiring: one store, one domain service, one HTTP server.
type server struct {
	cfg      Config
	log      *slog.Logger
	stdout   io.Writer
	store    storage.Store
	broker   realtime.Broker
	hub      *realtime.Hub
	svc      *loyalty.Service
	http     *http.Server
	listener net.Listener
	dev      bool
	program  string
	apple    *applePasses
	google   *googlePasses
	push     *pushes
	// background runs work that outlives a request (voiding an erased
	// member's Google Wallet object); serve waits for it.
	background sync.WaitGroup
}

// newServer opens the store, applies the seed and binds the listen address.
// On error it leaves nothing open.
func newServer(ctx context.Context, cfg Config, stdout io.Writer) (_ *server, err error) {
	s := &server{cfg: cfg, stdout: stdout, log: newLogger(cfg, stdout)}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.dev, err = cfg.devModeOn(); err != nil {
		return nil, err
	}
	verifier, err := s.verifier(ctx)
	if err != nil {
		return nil, err
	}
	sc := storage.Config{PostgresURL: cfg.PostgresURL, DataDir: cfg.DataDir}
	if s.store, err = storage.Open(ctx, sc); err != nil {
		return nil, err
	}
	s.log.Info("store open", "store", sc.Describe())
	var desc string
	if s.broker, desc, err = openBroker(ctx, cfg); err != nil {
		return nil, err
	}
	s.log.Info("card cache and change feed", "broker", desc)
	tlsConfig, err := loadTLS(cfg)
	if err != nil {
		return nil, err
	}
	if s.listener, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, err
	}
	publicURL := strings.TrimSuffix(cfg.PublicURL, "/")
	if publicURL == "" {
		publicURL = scheme(tlsConfig != nil) + "://" + s.listener.Addr().String()
	}
	// The hub is the service's change hook and reads cards from it; it
	// hands what it delivered to the wallet pushers.
	var hub *realtime.Hub
	svc := loyalty.NewService(s.store, loyalty.WithChangeHook(func(c []loyalty.CardChange) { hub.Committed(c) }),
		loyalty.WithErasureHook(s.erased))
	s.svc = svc
	if s.apple, err = s.openApplePasses(publicURL); err != nil {
		return nil, err
	}
	if s.google, err = s.openGooglePasses(publicURL); err != nil {
		return nil, err
	}
	var (
		apple     bff.ApplePasses
		google    bff.GooglePasses
		delivered []func([]loyalty.CardChange)
	)
	if s.apple != nil {
		apple = s.apple.svc
		delivered = append(delivered, s.apple.pusher.CardsChanged)
	}
	if s.google != nil {
		google = s.google.links
		delivered = append(delivered, s.google.syncer.CardsChanged)
	}
	var pushDesc string
	if s.push, pushDesc, err = s.openPushes(ctx); err != nil {
		return nil, err
	}
	s.log.Info("push notifications", "sender", pushDesc)
	delivered = append(delivered, func(c []loyalty.CardChange) {
		s.push.planner.CardsChanged(c)
		s.push.dispatcher.Poke()
	})
	hub = realtime.NewHub(svc, s.broker, realtime.Config{
		Logger: s.log,
		Delivered: func(c []loyalty.CardChange) {
			for _, fn := range delivered {
				fn(c)
			}
		},
	})
	s.hub = hub
	var devKeys seedKeys
	if s.dev {
		devKeys = seedKeys{till: cfg.DevStoreKey, operator: cfg.DevOperatorKey}
	}
	seed, err := loadSeed(cfg.SeedFile, devKeys)
	if err != nil {
		return nil, err
	}
	if err := svc.ApplySeed(ctx, seed); err != nil {
		return nil, fmt.Errorf("apply seed: %w", err)
	}
	s.program = cfg.DefaultProgram
	if s.program == "" {
		s.program = seed.Program.ID
	}
	mux := http.NewServeMux()
	mux.Handle("/", bff.NewHandler(svc, hub, bff.Config{
		Verifier:        verifier,
		DefaultProgram:  s.program,
		MaxRequestBytes: cfg.MaxRequestBytes,
		Rates:           cfg.Rates,
		MaxCallDuration: cfg.MaxCallDuration,
		Logger:          s.log,
		ApplePasses:     apple,
		GooglePasses:    google,
	}))
	if cfg.Web {
		web, err := fs.Sub(assets.Web, "web")
		if err != nil {
			return nil, err
		}
		app, err := newWebApp(web, s.webConfig())
		if err != nil {
			return nil, err
		}
		app.register(mux)
	}
	if s.apple != nil {
		mux.Handle(s.apple.svc.WebServicePath()+"/", s.apple.svc.WebService())
	}
	if s.google != nil {
		mux.Handle(googlepass.WebPath+"/", s.google.handler)
	}
	s.http = &http.Server{
		Handler:           securityHeaders(mux, cfg.TrustProxyHeaders),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConfig,
		Protocols:         httpProtocols(tlsConfig != nil),
	}
	return s, nil
}

// webConfig returns what the web app's pages are told of this server.
// The till key goes out in dev mode only, where treued listens on
// loopback and the key is the well-known demo key.
func (s *server) webConfig() webConfig {
	c := webConfig{Dev: s.dev}
	if s.dev {
		c.TillKey = s.cfg.DevStoreKey
	}
	if s.cfg.FirebaseProject == "" {
		return c
	}
	fb := &webFirebaseConfig{APIKey: s.cfg.FirebaseWebAPIKey, ProjectID: s.cfg.FirebaseProject}
	if host := firebaseauth.EmulatorHost(); host != "" && s.dev {
		fb.AuthEmulator = "http://" + host
		if fb.APIKey == "" {
			fb.APIKey = "emulator" // the emulator takes any key
		}
	}
	if fb.APIKey != "" {
		c.Firebase = fb
	}
	return c
}

// verifier returns the customer token verifier the configuration asks for.
func (s *server) verifier(ctx context.Context) (bff.TokenVerifier, error) {
	var fb bff.TokenVerifier
	if s.cfg.FirebaseProject != "" {
		fc := firebaseauth.Config{ProjectID: s.cfg.FirebaseProject, CheckRevoked: s.cfg.FirebaseCheckRevoked}
		if !fc.CheckRevoked && firebaseauth.EmulatorHost() == "" {
			// Verifying needs only Google's public keys.
			fc.Options = []option.ClientOption{option.WithoutAuthentication()}
		}
		v, err := firebaseauth.New(ctx, fc)
		if err != nil {
			return nil, err
		}
		fb = v
	}
	switch {
	case !s.dev && os.Getenv(firebaseauth.EmulatorHostEnv) != "":
		return nil, fmt.Errorf("%s is set: the Firebase Admin SDK then accepts unsigned tokens, so treued refuses it outside dev mode (TREUE_DEV=true)", firebaseauth.EmulatorHostEnv)
	case s.dev:
		s.log.Warn("DEV MODE: anyone can sign in as anyone with 'Authorization: Bearer dev:<uid>', and tills use the dev store key. Listening on loopback only. Set TREUE_FIREBASE_PROJECT_ID or TREUE_DEV=false for real sign-in.")
		return bff.DevTokens{Next: fb}, nil
	case fb == nil:
		return nil, errors.New("customer sign-in is not configured: set TREUE_FIREBASE_PROJECT_ID (or run on a loopback address in dev mode)")
	}
	return fb, nil
}

// serve serves until ctx is done, then shuts down gracefully.
func (s *server) serve(ctx context.Context) error {
	addr := s.listener.Addr().String()
	s.log.Info("treued listening", "addr", addr, "tls", s.http.TLSConfig != nil, "program", s.program, "dev", s.dev)
	s.logTLS(time.Now())
	if s.dev {
		s.printTryIt(scheme(s.http.TLSConfig != nil) + "://" + addr)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.serveHTTP() }()
	jobs, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	var jobsDone sync.WaitGroup
	jobsDone.Go(func() { s.runExpiry(jobs) })
	jobsDone.Go(func() { s.runDaily(jobs) })
	jobsDone.Go(func() { s.hub.Run(jobs) })
	jobsDone.Go(func() { s.push.dispatcher.Run(jobs, dispatchInterval) })
	jobsDone.Go(func() { s.runReminders(jobs) })
	if s.apple != nil {
		jobsDone.Go(func() { s.apple.pusher.Run(jobs) })
	}
	if s.google != nil {
		jobsDone.Go(func() { s.google.syncer.Run(jobs) })
		jobsDone.Go(func() { s.google.writeClasses(jobs, s) })
	}
	defer func() {
		stopJobs()
		jobsDone.Wait()
		s.background.Wait()
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout, "streams", s.hub.Watches())
	// Streams would hold the shutdown up for their hour: end them, and the
	// apps reconnect to another replica.
	s.hub.Drain()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.log.Info("stopped")
	return nil
}

// runDaily runs the gamification's daily job (birthday bonuses, tiers
// whose status ran out) for the seeded program at start and then every
// DailyInterval until ctx is done. Runs on several replicas at once are
// safe: birthday grants are keyed and tier moves happen once.
func (s *server) runDaily(ctx context.Context) {
	t := time.NewTicker(s.cfg.DailyInterval)
	defer t.Stop()
	for {
		start := time.Now()
		run, err := s.svc.RunDaily(ctx, s.program)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.Error("daily job failed", "err", err, "members", run.Members)
		default:
			s.log.Info("daily job done", "members", run.Members, "grants", run.Grants, "tier_moves", run.TierMoves, "took", time.Since(start))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runExpiry runs the expiry job at start and then every ExpiryInterval
// until ctx is done. Runs on several replicas at once are safe.
func (s *server) runExpiry(ctx context.Context) {
	t := time.NewTicker(s.cfg.ExpiryInterval)
	defer t.Stop()
	for {
		start := time.Now()
		run, err := s.svc.ExpireDue(ctx, nil)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.Error("expiry job failed", "err", err, "members", run.Members, "points", run.Points)
		case run.Members > 0:
			s.log.Info("points expired", "members", run.Members, "points", run.Points, "took", time.Since(start))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// printTryIt tells a new user how to call the server running at base.
func (s *server) printTryIt(base string) {
	fmt.Fprintf(s.stdout, `
Treue is running at %[1]s with the demo café.

  customer app:    %[1]s/
  till simulator:  %[1]s/till

Or try the API:

  # a customer enrols and sees their card
  curl -s -H 'Authorization: Bearer dev:alice' -H 'Content-Type: application/json' \
    -d '{}' %[1]s/treue.v1.AccountService/Enroll

  # the till posts a purchase of 12.50 EUR on that card
  curl -s -H 'Authorization: Bearer %[2]s' -H 'Content-Type: application/json' \
    -d '{"card_number":"<card number from above>","amount_minor":1250,"currency":"EUR","idempotency_key":"receipt-1"}' \
    %[1]s/treue.v1.PosService/Earn

`, base, s.cfg.DevStoreKey)
}

// close releases what newServer opened.
func (s *server) close() {
	if s.listener != nil {
		s.listener.Close()
	}
	if s.broker != nil {
		if err := s.broker.Close(); err != nil {
			s.log.Error("close broker", "err", err)
		}
	}
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			s.log.Error("close store", "err", err)
		}
	}
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
