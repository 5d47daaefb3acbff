package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/treue/treue/bff"
)

// Config is every setting of treued, read once from flags and TREUE_*
// environment variables (a flag wins over its variable).
type Config struct {
	Addr    string
	DataDir string
	// PostgresURL selects the PostgreSQL store; empty keeps SQLite in DataDir.
	PostgresURL string
	// ValkeyAddrs selects Valkey for the card cache and change feed: one
	// address, or several (cluster seeds or, with ValkeySentinelMaster,
	// sentinels), comma-separated. Empty keeps both in process.
	ValkeyAddrs          string
	ValkeySentinelMaster string
	ValkeyUsername       string
	ValkeyPassword       string
	ValkeyPrefix         string
	// ExpiryInterval is how often the expiry job runs.
	ExpiryInterval time.Duration
	// DailyInterval is how often the gamification's daily job runs.
	DailyInterval time.Duration
	// SeedFile is a program seed file applied at start; empty means the
	// embedded demo program.
	SeedFile string
	// DevMode accepts "dev:<uid>" tokens and the dev till key. "auto" turns
	// it on when no production setting (Firebase, PostgreSQL, Valkey) is given and
	// Addr is loopback.
	DevMode         string
	DevStoreKey     string
	DevOperatorKey  string
	FirebaseProject string
	// FirebaseCheckRevoked asks Firebase, on sensitive procedures (redeem),
	// whether the token was revoked; it needs credentials
	// (GOOGLE_APPLICATION_CREDENTIALS).
	FirebaseCheckRevoked bool
	// FirebaseWebAPIKey is the Firebase Web API key the web app signs
	// customers in with (email and password); empty: no Firebase sign-in
	// in the web app (unless the Auth emulator is set in dev mode).
	FirebaseWebAPIKey string
	// Web serves the customer web app at / and the till simulator at
	// /till.
	Web            bool
	DefaultProgram string
	// FCMCredentialsFile is the service account key (JSON) pushes are sent
	// with through FCM, to FCMProject (default: FirebaseProject); empty
	// records pushes in process and logs them.
	FCMCredentialsFile string
	FCMProject         string
	// PushRate bounds the messages per second sent to FCM by the replica
	// holding the sender's lease (one at a time).
	PushRate float64
	// PushQuietStart and PushQuietEnd are the hours, in the member's time
	// zone, between which pushes wait.
	PushQuietStart, PushQuietEnd int
	// PushCap is how many pushes a member gets in 24 hours at most.
	PushCap int
	// ReminderInterval is how often push reminders are computed.
	ReminderInterval time.Duration
	// PublicURL is where devices and browsers reach this server; Apple
	// Wallet passes name PublicURL + "/passkit" as their web service.
	// Empty means http://Addr.
	PublicURL string
	// ApplePassCert is the pass type ID certificate: a PEM file, with its
	// key in ApplePassKey, or a .p12 unlocked by ApplePassKeyPassword.
	// Empty means development certificates in dev mode and no Apple passes
	// otherwise. AppleWWDRCert is Apple's WWDR intermediate certificate.
	ApplePassCert        string
	ApplePassKey         string
	ApplePassKeyPassword string
	AppleWWDRCert        string
	// APNsKeyFile, APNsKeyID and APNsTeamID are an APNs auth key (.p8);
	// without one, pushes authenticate with the pass certificate.
	// APNsHost is production, development or a URL.
	APNsKeyFile string
	APNsKeyID   string
	APNsTeamID  string
	APNsHost    string
	// GoogleServiceAccountFile is the service account key (JSON) that signs
	// Save to Google Wallet links for the issuer GoogleIssuerID; empty means
	// a development key in dev mode and no Google Wallet otherwise.
	// GoogleOrigins are the web origins allowed to show the save button.
	GoogleServiceAccountFile string
	GoogleIssuerID           string
	GoogleOrigins            string
	// GoogleSyncRate bounds the Wallet API requests per second of this
	// replica: Google's quota is per project, so replicas share it.
	GoogleSyncRate float64
	LogLevel       slog.Level
	LogFormat      string

	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration
	MaxHeaderBytes    int
	MaxRequestBytes   int

	// TLSCertFile and TLSKeyFile are the PEM certificate chain and key
	// treued serves HTTPS (HTTP/2 and HTTP/1.1) with; both empty means
	// plain HTTP/1.1 and h2c, behind a proxy that terminates TLS.
	TLSCertFile string
	TLSKeyFile  string
	// TrustProxyHeaders believes X-Forwarded-Proto: set it only behind a
	// proxy that sets the header, so clients cannot.
	TrustProxyHeaders bool
	// Rates are the API's per-caller rate limits (per replica).
	Rates bff.Rates
	// MaxCallDuration bounds a unary API call, whatever deadline the
	// client asked for.
	MaxCallDuration time.Duration
}

// setting is one configuration value: its flag, its variable, its default
// and its help text.
type setting struct {
	flag, env, def, help string
	set                  func(string) error
}

func (c *Config) settings() []setting {
	str := func(p *string) func(string) error { return func(v string) error { *p = v; return nil } }
	dur := func(p *time.Duration) func(string) error {
		return func(v string) error {
			d, err := time.ParseDuration(v)
			if err == nil && d <= 0 {
				err = errors.New("must be positive")
			}
			*p = d
			return err
		}
	}
	boolean := func(p *bool) func(string) error {
		return func(v string) error {
			b, err := strconv.ParseBool(v)
			*p = b
			return err
		}
	}
	size := func(p *int) func(string) error {
		return func(v string) error {
			n, err := strconv.Atoi(v)
			if err == nil && n <= 0 {
				err = errors.New("must be positive")
			}
			*p = n
			return err
		}
	}
	rate := func(p *float64) func(string) error {
		return func(v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil && !(f > 0) {
				err = errors.New("want calls per second above 0, or inf for no limit")
			}
			*p = f
			return err
		}
	}
	d := bff.DefaultRates
	return []setting{
		{"addr", "TREUE_ADDR", "127.0.0.1:8080", "listen address (host:port)", str(&c.Addr)},
		{"data-dir", "TREUE_DATA_DIR", "treue-data", "directory of the embedded SQLite database", str(&c.DataDir)},
		{"postgres-url", "TREUE_POSTGRES_URL", "", "PostgreSQL connection URL; empty: SQLite in the data dir", str(&c.PostgresURL)},
		{"valkey-addr", "TREUE_VALKEY_ADDR", "", "Valkey/Redis host:port for the card cache and change feed; several, comma-separated, for a cluster or sentinels; empty: in process", str(&c.ValkeyAddrs)},
		{"valkey-sentinel-master", "TREUE_VALKEY_SENTINEL_MASTER", "", "Sentinel master set name; makes TREUE_VALKEY_ADDR the sentinels", str(&c.ValkeySentinelMaster)},
		{"valkey-username", "TREUE_VALKEY_USERNAME", "", "Valkey ACL user name", str(&c.ValkeyUsername)},
		{"valkey-password", "TREUE_VALKEY_PASSWORD", "", "Valkey password", str(&c.ValkeyPassword)},
		{"valkey-prefix", "TREUE_VALKEY_PREFIX", "treue", "prefix of Treue's keys and channels, so deployments can share a Valkey", str(&c.ValkeyPrefix)},
		{"expiry-interval", "TREUE_EXPIRY_INTERVAL", "1h", "how often points due to expire are expired", dur(&c.ExpiryInterval)},
		{"daily-interval", "TREUE_DAILY_INTERVAL", "6h", "how often birthday bonuses and tiers whose status ran out are applied", dur(&c.DailyInterval)},
		{"seed", "TREUE_SEED_FILE", "", "program seed file (JSON) applied at start; empty: the demo café", str(&c.SeedFile)},
		{"dev", "TREUE_DEV", "auto", "development sign-in: auto, true or false", str(&c.DevMode)},
		{"dev-store-key", "TREUE_DEV_STORE_KEY", "demo-store-key", "API key of the seed's tills in dev mode", str(&c.DevStoreKey)},
		{"dev-operator-key", "TREUE_DEV_OPERATOR_KEY", "demo-operator-key", "API key of the seed's operators in dev mode", str(&c.DevOperatorKey)},
		{"firebase-project", "TREUE_FIREBASE_PROJECT_ID", "", "Firebase project whose ID tokens customers sign in with", str(&c.FirebaseProject)},
		{"firebase-check-revoked", "TREUE_FIREBASE_CHECK_REVOKED", "false", "ask Firebase whether the token was revoked on sensitive calls (redeem); needs GOOGLE_APPLICATION_CREDENTIALS", boolean(&c.FirebaseCheckRevoked)},
		{"firebase-web-api-key", "TREUE_FIREBASE_WEB_API_KEY", "", "Firebase Web API key the web app signs customers in with by email and password; empty: none (in dev mode with the Auth emulator, any key works)", str(&c.FirebaseWebAPIKey)},
		{"web", "TREUE_WEB", "true", "serve the customer web app at / and the till simulator at /till", boolean(&c.Web)},
		{"fcm-credentials", "TREUE_FCM_CREDENTIALS_FILE", "", "service account key (JSON) to send pushes through Firebase Cloud Messaging; empty: pushes are recorded in process and logged", str(&c.FCMCredentialsFile)},
		{"fcm-project", "TREUE_FCM_PROJECT_ID", "", "Firebase project pushes are sent through; empty: TREUE_FIREBASE_PROJECT_ID", str(&c.FCMProject)},
		{"push-rate", "TREUE_PUSH_RATE", "10000", "pushes per second at most (FCM allows 600,000 per minute per project; one replica sends at a time)", func(v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil && !(f > 0 && f <= 10000) {
				err = errors.New("want a rate above 0 and at most 10000")
			}
			c.PushRate = f
			return err
		}},
		{"push-quiet-hours", "TREUE_PUSH_QUIET_HOURS", "21-8", "hours (start-end, in the member's time zone) during which pushes wait until the end; equal hours (0-0): none", func(v string) error {
			var a, b int
			if _, err := fmt.Sscanf(v, "%d-%d", &a, &b); err != nil || a < 0 || a > 23 || b < 0 || b > 23 {
				return errors.New("want two hours 0 to 23 as start-end, e.g. 21-8")
			}
			c.PushQuietStart, c.PushQuietEnd = a, b
			return nil
		}},
		{"push-cap", "TREUE_PUSH_CAP", "3", "pushes a member gets in 24 hours at most; more wait", size(&c.PushCap)},
		{"reminder-interval", "TREUE_REMINDER_INTERVAL", "1h", "how often push reminders (points expiring, challenges ending) are computed", dur(&c.ReminderInterval)},
		{"default-program", "TREUE_DEFAULT_PROGRAM", "", "program of customer calls without a Treue-Program header; empty: the seed's", str(&c.DefaultProgram)},
		{"public-url", "TREUE_PUBLIC_URL", "", "URL devices and browsers reach this server at (https in production); empty: http://<addr>", str(&c.PublicURL)},
		{"apple-pass-cert", "TREUE_APPLE_PASS_CERT", "", "Apple pass type ID certificate: PEM (with -apple-pass-key) or .p12; empty: dev certificates in dev mode, no Apple passes otherwise", str(&c.ApplePassCert)},
		{"apple-pass-key", "TREUE_APPLE_PASS_KEY", "", "PEM private key of the pass type ID certificate", str(&c.ApplePassKey)},
		{"apple-pass-key-password", "TREUE_APPLE_PASS_KEY_PASSWORD", "", "password of the .p12 pass certificate", str(&c.ApplePassKeyPassword)},
		{"apple-wwdr-cert", "TREUE_APPLE_WWDR_CERT", "", "Apple WWDR intermediate certificate (PEM or DER) the pass certificate was issued by", str(&c.AppleWWDRCert)},
		{"apns-key", "TREUE_APNS_KEY_FILE", "", "APNs auth key (.p8); empty: APNs with the pass certificate", str(&c.APNsKeyFile)},
		{"apns-key-id", "TREUE_APNS_KEY_ID", "", "key id of the APNs auth key", str(&c.APNsKeyID)},
		{"apns-team-id", "TREUE_APNS_TEAM_ID", "", "Apple team id of the APNs auth key", str(&c.APNsTeamID)},
		{"apns-host", "TREUE_APNS_HOST", "production", "APNs: production, development or a URL", str(&c.APNsHost)},
		{"google-service-account", "TREUE_GOOGLE_SERVICE_ACCOUNT_FILE", "", "Google Wallet: service account key file (JSON); empty: a development key in dev mode, no Google Wallet otherwise", str(&c.GoogleServiceAccountFile)},
		{"google-issuer-id", "TREUE_GOOGLE_ISSUER_ID", "", "Google Wallet issuer id", str(&c.GoogleIssuerID)},
		{"google-origins", "TREUE_GOOGLE_ORIGINS", "", "web origins (comma-separated) whose pages show the Save to Google Wallet button", str(&c.GoogleOrigins)},
		{"google-sync-rate", "TREUE_GOOGLE_SYNC_RATE", "20", "Wallet API requests per second of this replica (Google allows about 20 per project: divide among replicas)", func(v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil && !(f > 0 && f <= 1000) {
				err = errors.New("want a rate above 0 and at most 1000")
			}
			c.GoogleSyncRate = f
			return err
		}},
		{"log-level", "TREUE_LOG_LEVEL", "info", "debug, info, warn or error", func(v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }},
		{"log-format", "TREUE_LOG_FORMAT", "text", "text or json", str(&c.LogFormat)},
		{"read-header-timeout", "TREUE_READ_HEADER_TIMEOUT", "5s", "time to read a request's headers", dur(&c.ReadHeaderTimeout)},
		{"read-timeout", "TREUE_READ_TIMEOUT", "30s", "time to read a whole request", dur(&c.ReadTimeout)},
		{"write-timeout", "TREUE_WRITE_TIMEOUT", "30s", "time to write a response", dur(&c.WriteTimeout)},
		{"idle-timeout", "TREUE_IDLE_TIMEOUT", "120s", "time an idle keep-alive connection stays open", dur(&c.IdleTimeout)},
		{"shutdown-timeout", "TREUE_SHUTDOWN_TIMEOUT", "15s", "time to finish requests at shutdown", dur(&c.ShutdownTimeout)},
		{"max-header-bytes", "TREUE_MAX_HEADER_BYTES", "65536", "largest request header block", size(&c.MaxHeaderBytes)},
		{"max-request-bytes", "TREUE_MAX_REQUEST_BYTES", "262144", "largest request message, after decompression", size(&c.MaxRequestBytes)},
		{"tls-cert", "TREUE_TLS_CERT_FILE", "", "PEM certificate (chain) to serve HTTPS with, HTTP/2 and HTTP/1.1; empty: plain HTTP/1.1 and h2c behind a TLS-terminating proxy", str(&c.TLSCertFile)},
		{"tls-key", "TREUE_TLS_KEY_FILE", "", "PEM private key of TREUE_TLS_CERT_FILE", str(&c.TLSKeyFile)},
		{"trust-proxy-headers", "TREUE_TRUST_PROXY_HEADERS", "false", "believe X-Forwarded-Proto (https: send HSTS); only behind a proxy that sets it", boolean(&c.TrustProxyHeaders)},
		{"rate-customer", "TREUE_RATE_CUSTOMER", fmtRate(d.Customer), "API calls per second of one member (per replica); inf: no limit", rate(&c.Rates.Customer)},
		{"rate-customer-burst", "TREUE_RATE_CUSTOMER_BURST", strconv.Itoa(d.CustomerBurst), "API calls one member may make at once above the rate", size(&c.Rates.CustomerBurst)},
		{"rate-till", "TREUE_RATE_TILL", fmtRate(d.Till), "API calls per second of one till (per replica); inf: no limit", rate(&c.Rates.Till)},
		{"rate-till-burst", "TREUE_RATE_TILL_BURST", strconv.Itoa(d.TillBurst), "API calls one till may make at once above the rate", size(&c.Rates.TillBurst)},
		{"rate-operator", "TREUE_RATE_OPERATOR", fmtRate(d.Operator), "API calls per second of one operator (per replica); inf: no limit", rate(&c.Rates.Operator)},
		{"rate-operator-burst", "TREUE_RATE_OPERATOR_BURST", strconv.Itoa(d.OperatorBurst), "API calls one operator may make at once above the rate", size(&c.Rates.OperatorBurst)},
		{"max-call-duration", "TREUE_MAX_CALL_DURATION", bff.DefaultMaxCallDuration.String(), "longest a unary API call runs, whatever deadline the client asks for; less than TREUE_WRITE_TIMEOUT", dur(&c.MaxCallDuration)},
	}
}

// parseConfig returns the configuration given by args and the environment.
// It returns an error naming the setting for any malformed value.
func parseConfig(args []string, getenv func(string) string) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("treued", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	values := map[string]*string{}
	for _, s := range c.settings() {
		values[s.flag] = fs.String(s.flag, "", fmt.Sprintf("%s (env %s, default %q)", s.help, s.env, s.def))
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, errors.New(usage(fs))
		}
		return Config{}, fmt.Errorf("%w\n%s", err, usage(fs))
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments %q\n%s", fs.Args(), usage(fs))
	}
	for _, s := range c.settings() {
		v, source := *values[s.flag], "-"+s.flag
		if v == "" {
			v, source = getenv(s.env), s.env
		}
		if v == "" {
			v, source = s.def, "default of "+s.env
		}
		if err := s.set(v); err != nil {
			return Config{}, fmt.Errorf("%s=%q: %w", source, v, err)
		}
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return Config{}, fmt.Errorf("TREUE_ADDR %q: %w", c.Addr, err)
	}
	switch c.DevMode {
	case "auto", "true", "false":
	default:
		return Config{}, fmt.Errorf("TREUE_DEV=%q: want auto, true or false", c.DevMode)
	}
	if c.ApplePassCert != "" && c.AppleWWDRCert == "" {
		return Config{}, errors.New("TREUE_APPLE_PASS_CERT needs TREUE_APPLE_WWDR_CERT, Apple's intermediate certificate that every pass signature carries")
	}
	if c.GoogleServiceAccountFile != "" && c.GoogleIssuerID == "" {
		return Config{}, errors.New("TREUE_GOOGLE_SERVICE_ACCOUNT_FILE needs TREUE_GOOGLE_ISSUER_ID, the issuer id of the Google Wallet console")
	}
	if c.APNsKeyFile != "" && (c.APNsKeyID == "" || c.APNsTeamID == "") {
		return Config{}, errors.New("TREUE_APNS_KEY_FILE needs TREUE_APNS_KEY_ID and TREUE_APNS_TEAM_ID")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			return Config{}, fmt.Errorf("TREUE_PUBLIC_URL=%q: want an absolute http(s) URL without a query", c.PublicURL)
		}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return Config{}, fmt.Errorf("TREUE_LOG_FORMAT=%q: want text or json", c.LogFormat)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return Config{}, errors.New("TREUE_TLS_CERT_FILE and TREUE_TLS_KEY_FILE go together: set both to serve HTTPS, or neither to serve plain HTTP behind a TLS-terminating proxy")
	}
	if c.MaxCallDuration >= c.WriteTimeout {
		return Config{}, fmt.Errorf("TREUE_MAX_CALL_DURATION=%s must be less than TREUE_WRITE_TIMEOUT=%s, or answers are cut off", c.MaxCallDuration, c.WriteTimeout)
	}
	return c, nil
}

// fmtRate formats a rate as the settings take it.
func fmtRate(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func usage(fs *flag.FlagSet) string {
	var b []byte
	b = append(b, "usage: treued [flags]\n"...)
	fs.VisitAll(func(f *flag.Flag) { b = fmt.Appendf(b, "  -%s\t%s\n", f.Name, f.Usage) })
	return string(b)
}

// devModeOn reports whether development sign-in is on, or an error when it
// was asked for where it is unsafe.
func (c Config) devModeOn() (bool, error) {
	loopback := isLoopback(c.Addr)
	switch c.DevMode {
	case "true":
		if !loopback {
			return false, fmt.Errorf("TREUE_DEV=true needs a loopback address, not %q: dev tokens let anyone sign in as anyone", c.Addr)
		}
		return true, nil
	case "false":
		return false, nil
	}
	return loopback && c.FirebaseProject == "" && c.PostgresURL == "" && c.ValkeyAddrs == "", nil
}

// isLoopback reports whether addr listens on loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
