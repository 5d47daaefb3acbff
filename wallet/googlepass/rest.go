package googlepass

import (
	"cmp"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	"google.golang.org/api/walletobjects/v1"
)

// Where the Wallet REST API and Google's OAuth tokens are.
const (
	DefaultEndpoint = "https://walletobjects.googleapis.com/"
	DefaultTokenURL = "https://oauth2.googleapis.com/token"
)

// restTimeout bounds one call, its token fetch included, when the caller's
// context has no earlier deadline.
const restTimeout = 30 * time.Second

// RESTConfig configures a RESTClient. Account is required.
type RESTConfig struct {
	// Account authenticates the calls: it signs the assertion that buys
	// OAuth tokens (scope wallet_object.issuer), which are reused until
	// they expire.
	Account Account
	// Endpoint is the API's base URL (default DefaultEndpoint).
	Endpoint string
	// TokenURL is where tokens are bought: Account.TokenURI, else
	// DefaultTokenURL, unless set here.
	TokenURL string
	// HTTPClient carries the requests, token fetches included (default
	// a client with restTimeout).
	HTTPClient *http.Client
}

// RESTClient is the WalletAPI over Google's REST API, through the
// generated client of google.golang.org/api/walletobjects/v1.
type RESTClient struct {
	svc *walletobjects.Service
}

// NewRESTClient returns a RESTClient, or an error when the account has no
// key or an URL is not http(s).
func NewRESTClient(cfg RESTConfig) (*RESTClient, error) {
	if cfg.Account.Key == nil || cfg.Account.Email == "" {
		return nil, errors.New("googlepass: REST client: the account has no key or email")
	}
	endpoint := cmp.Or(cfg.Endpoint, DefaultEndpoint)
	tokenURL := cmp.Or(cfg.TokenURL, cfg.Account.TokenURI, DefaultTokenURL)
	for _, u := range []string{endpoint, tokenURL} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return nil, fmt.Errorf("googlepass: REST client: %q is not an http(s) URL", u)
		}
	}
	if !strings.HasSuffix(endpoint, "/") {
		endpoint += "/"
	}
	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: restTimeout}
	}
	der, err := x509.MarshalPKCS8PrivateKey(cfg.Account.Key)
	if err != nil {
		return nil, fmt.Errorf("googlepass: REST client: %w", err)
	}
	conf := &jwt.Config{
		Email:        cfg.Account.Email,
		PrivateKey:   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		PrivateKeyID: cfg.Account.KeyID,
		Scopes:       []string{walletobjects.WalletObjectIssuerScope},
		TokenURL:     tokenURL,
	}
	// Token fetches go through base too; the context only carries it.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, base)
	authed := oauth2.NewClient(ctx, conf.TokenSource(ctx))
	authed.Timeout = base.Timeout
	svc, err := walletobjects.NewService(ctx, option.WithHTTPClient(authed), option.WithEndpoint(endpoint))
	if err != nil {
		return nil, fmt.Errorf("googlepass: REST client: %w", err)
	}
	return &RESTClient{svc: svc}, nil
}

// InsertClass implements WalletAPI.
func (c *RESTClient) InsertClass(ctx context.Context, class *walletobjects.LoyaltyClass) error {
	_, err := c.svc.Loyaltyclass.Insert(class).Context(ctx).Do()
	return apiError("insert class "+class.Id, err)
}

// UpdateClass implements WalletAPI.
func (c *RESTClient) UpdateClass(ctx context.Context, class *walletobjects.LoyaltyClass) error {
	_, err := c.svc.Loyaltyclass.Update(class.Id, class).Context(ctx).Do()
	return apiError("update class "+class.Id, err)
}

// InsertObject implements WalletAPI.
func (c *RESTClient) InsertObject(ctx context.Context, o *walletobjects.LoyaltyObject) error {
	_, err := c.svc.Loyaltyobject.Insert(o).Context(ctx).Do()
	return apiError("insert object "+o.Id, err)
}

// PatchObject implements WalletAPI.
func (c *RESTClient) PatchObject(ctx context.Context, o *walletobjects.LoyaltyObject) error {
	_, err := c.svc.Loyaltyobject.Patch(o.Id, o).Context(ctx).Do()
	return apiError("patch object "+o.Id, err)
}

// AddMessage implements WalletAPI.
func (c *RESTClient) AddMessage(ctx context.Context, objectID string, m *walletobjects.Message) error {
	_, err := c.svc.Loyaltyobject.Addmessage(objectID, &walletobjects.AddMessageRequest{Message: m}).Context(ctx).Do()
	return apiError("add message to object "+objectID, err)
}

// apiError returns err as an *APIError when Google answered with an
// error status, err wrapped with op otherwise, and nil for nil.
func apiError(op string, err error) error {
	if err == nil {
		return nil
	}
	var g *googleapi.Error
	if !errors.As(err, &g) {
		return fmt.Errorf("googlepass: %s: %w", op, err)
	}
	return &APIError{
		Op:         op,
		Status:     g.Code,
		RetryAfter: parseRetryAfter(g.Header.Get("Retry-After"), time.Now()),
		Message:    clipForError(g.Message, 200),
	}
}
