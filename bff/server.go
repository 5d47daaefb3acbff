package bff

import (
	"log/slog"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
	"github.com/treue/treue/realtime"
)

// Config is what the API handler needs besides the domain service.
type Config struct {
	// Verifier checks customers' ID tokens.
	Verifier TokenVerifier
	// DefaultProgram is the program of customer calls without a
	// Treue-Program header.
	DefaultProgram string
	// MaxRequestBytes bounds a request message (after decompression).
	MaxRequestBytes int
	// MaxResponseBytes bounds a response message.
	MaxResponseBytes int
	// Heartbeat is the longest a WatchCard stream stays silent, and
	// MaxWatchAge is when the server ends it (the app resumes).
	Heartbeat   time.Duration
	MaxWatchAge time.Duration
	Logger      *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ApplePasses issues Apple Wallet passes; nil answers
	// WalletService.GetApplePass with unavailable.
	ApplePasses ApplePasses
	// GooglePasses makes Google Wallet links; nil answers
	// WalletService.GetGoogleWalletLink with unavailable.
	GooglePasses GooglePasses
	// Rates bound how often one caller may call; zero fields take the
	// defaults (DefaultRates).
	Rates Rates
	// MaxCallDuration bounds a unary call: the handler's context ends
	// after it, whatever deadline the client asked for. Zero means
	// DefaultMaxCallDuration.
	MaxCallDuration time.Duration
}

// Rates are the per-caller rate limits: a token bucket per member (of a
// program), per till and per operator, each refilled at the rate (calls per
// second) up to the burst. A call beyond them fails with
// resource_exhausted and a RetryInfo detail saying when to retry. The
// buckets are per replica.
type Rates struct {
	Customer      float64
	CustomerBurst int
	Till          float64
	TillBurst     int
	Operator      float64
	OperatorBurst int
	// MaxCallers bounds the buckets kept at once; the longest idle ones
	// (full again, so nothing is lost) go first.
	MaxCallers int
}

// Default message limits.
const (
	DefaultMaxRequestBytes  = 256 << 10
	DefaultMaxResponseBytes = 4 << 20
)

// compressMinBytes is the smallest response worth compressing.
const compressMinBytes = 1024

// serviceNames are the services the health checker reports and reflection
// describes.
var serviceNames = []string{
	treuev1connect.AccountServiceName,
	treuev1connect.CardServiceName,
	treuev1connect.RewardServiceName,
	treuev1connect.PosServiceName,
	treuev1connect.AppServiceName,
	treuev1connect.WalletServiceName,
	treuev1connect.ChallengeServiceName,
	treuev1connect.AdminServiceName,
	treuev1connect.PrivacyServiceName,
}

// NewHandler returns the HTTP handler of Treue's API: its services, gRPC
// health and reflection, each for Connect, gRPC and gRPC-Web. Cards are read
// and watched through cards, which must be svc's change hook.
func NewHandler(svc *loyalty.Service, cards *realtime.Hub, cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.MaxWatchAge <= 0 {
		cfg.MaxWatchAge = DefaultMaxWatchAge
	}
	if cfg.MaxCallDuration <= 0 {
		cfg.MaxCallDuration = DefaultMaxCallDuration
	}
	auth := &authenticator{
		verifier:       cfg.Verifier,
		tills:          newKeyCache(svc.AuthenticateTill, cfg.Now).authenticate,
		operators:      newKeyCache(svc.AuthenticateOperator, cfg.Now).authenticate,
		defaultProgram: cfg.DefaultProgram,
		log:            cfg.Logger,
	}
	opts := []connect.HandlerOption{
		// The error mapper is outermost, so it also maps the authenticator's
		// own failures; the deadline also bounds the authenticator's calls
		// (token revocation checks); the rate limiter needs the principal.
		connect.WithInterceptors(errorMapper{log: cfg.Logger}, callDeadline{max: cfg.MaxCallDuration}, auth, newRateLimiter(cfg.Rates)),
		connect.WithReadMaxBytes(cfg.MaxRequestBytes),
		connect.WithSendMaxBytes(cfg.MaxResponseBytes),
		// Most answers are a few hundred bytes: compressing them costs more
		// than it saves.
		connect.WithCompressMinBytes(compressMinBytes),
	}
	mux := http.NewServeMux()
	mux.Handle(treuev1connect.NewAccountServiceHandler(accountHandler{svc: svc}, opts...))
	watch := watchLimits{heartbeat: cfg.Heartbeat, maxAge: cfg.MaxWatchAge}
	mux.Handle(treuev1connect.NewCardServiceHandler(cardHandler{svc: svc, cards: cards, watch: watch}, opts...))
	mux.Handle(treuev1connect.NewAppServiceHandler(appHandler{svc: svc, cards: cards, parts: partDeadlines{
		card: DefaultCardPartDeadline, other: DefaultOtherPartDeadline,
	}}, opts...))
	mux.Handle(treuev1connect.NewRewardServiceHandler(rewardHandler{svc: svc, now: cfg.Now}, opts...))
	mux.Handle(treuev1connect.NewPosServiceHandler(posHandler{svc: svc}, opts...))
	mux.Handle(treuev1connect.NewWalletServiceHandler(walletHandler{apple: cfg.ApplePasses, google: cfg.GooglePasses}, opts...))
	mux.Handle(treuev1connect.NewChallengeServiceHandler(challengeHandler{svc: svc}, opts...))
	mux.Handle(treuev1connect.NewAdminServiceHandler(adminHandler{svc: svc}, opts...))
	mux.Handle(treuev1connect.NewPrivacyServiceHandler(privacyHandler{svc: svc}, opts...))
	mux.Handle(grpchealth.NewHandler(grpchealth.NewStaticChecker(serviceNames...)))
	reflector := grpcreflect.NewStaticReflector(serviceNames...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	return longStreams(mux, cfg.MaxWatchAge)
}

// longStreams lifts the HTTP server's read and write timeouts, meant for
// unary calls, from WatchCard streams, which end by themselves after maxAge.
func longStreams(next http.Handler, maxAge time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == treuev1connect.CardServiceWatchCardProcedure {
			rc := http.NewResponseController(w)
			end := time.Now().Add(maxAge + time.Minute)
			// Not every ResponseWriter supports deadlines (httptest's
			// recorder does not); the stream then keeps the server's.
			_ = rc.SetWriteDeadline(end)
			_ = rc.SetReadDeadline(end)
		}
		next.ServeHTTP(w, r)
	})
}
