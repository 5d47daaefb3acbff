package bff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/redact"
)

// TokenVerifier checks customers' ID tokens. firebaseauth.Verifier checks
// Firebase ID tokens.
type TokenVerifier interface {
	// VerifyIDToken returns the identity of a valid token, or an error.
	VerifyIDToken(ctx context.Context, token string) (loyalty.Identity, error)
	// VerifyIDTokenAndCheckRevoked also asks the identity provider whether
	// the token was revoked or its user disabled; it is used for the
	// sensitive procedures (customerSensitive).
	VerifyIDTokenAndCheckRevoked(ctx context.Context, token string) (loyalty.Identity, error)
}

// DevTokens is a TokenVerifier for local development: it accepts
// "dev:<uid>" as the token of user uid and hands every other token to Next
// (if set). Never use it where the server can be reached from elsewhere.
type DevTokens struct {
	Next TokenVerifier
	// Now is the clock a dev token's sign-in time is read from (a dev
	// token counts as signed in just now); nil means time.Now.
	Now func() time.Time
}

// devTokenPrefix starts a development token.
const devTokenPrefix = "dev:"

// VerifyIDToken returns the identity of a dev token, or what Next says.
func (d DevTokens) VerifyIDToken(ctx context.Context, token string) (loyalty.Identity, error) {
	return d.verify(ctx, token, false)
}

// VerifyIDTokenAndCheckRevoked returns the identity of a dev token (dev
// tokens cannot be revoked), or what Next says.
func (d DevTokens) VerifyIDTokenAndCheckRevoked(ctx context.Context, token string) (loyalty.Identity, error) {
	return d.verify(ctx, token, true)
}

func (d DevTokens) verify(ctx context.Context, token string, checkRevoked bool) (loyalty.Identity, error) {
	if uid, ok := strings.CutPrefix(token, devTokenPrefix); ok {
		if uid == "" || len(uid) > 128 || strings.ContainsAny(uid, " \t\r\n") {
			return loyalty.Identity{}, errors.New("dev token needs a uid of 1 to 128 characters without spaces: dev:<uid>")
		}
		now := time.Now
		if d.Now != nil {
			now = d.Now
		}
		return loyalty.Identity{UID: uid, AuthTime: now()}, nil
	}
	if d.Next == nil {
		return loyalty.Identity{}, errors.New("only dev tokens (dev:<uid>) are accepted in dev mode")
	}
	if checkRevoked {
		return d.Next.VerifyIDTokenAndCheckRevoked(ctx, token)
	}
	return d.Next.VerifyIDToken(ctx, token)
}

// ProgramHeader names the program a customer call is for; without it the
// deployment's default program is meant.
const ProgramHeader = "Treue-Program"

// audience says who may call a procedure.
type audience int

const (
	// customerSelf: a signed-in customer, acting on their own data only.
	customerSelf audience = iota + 1
	// customerSensitive: customerSelf, and the token is checked against
	// revocation (spending points, erasing data).
	customerSensitive
	// tillOfProgram: a store's till, acting within its own program only.
	tillOfProgram
	// operatorOfProgram: a program's operator, configuring its own program
	// only, by its operator API key (never a till's).
	operatorOfProgram
)

type principalKey struct{}

// principal is the authenticated caller of one request.
type principal struct {
	customer loyalty.Customer
	// identity is the customer's verified token.
	identity loyalty.Identity
	till     loyalty.Till
	operator loyalty.Operator
}

// identityFrom returns the verified token of the signed-in customer of ctx.
func identityFrom(ctx context.Context) (loyalty.Identity, error) {
	p, _ := ctx.Value(principalKey{}).(principal)
	if p.identity.UID == "" {
		return loyalty.Identity{}, errors.New("no customer identity in context: procedure missing from the audience table")
	}
	return p.identity, nil
}

// customerFrom returns the signed-in customer of ctx.
func customerFrom(ctx context.Context) (loyalty.Customer, error) {
	p, _ := ctx.Value(principalKey{}).(principal)
	if p.customer.UID == "" {
		return loyalty.Customer{}, errors.New("no customer in context: procedure missing from the audience table")
	}
	return p.customer, nil
}

// tillFrom returns the authenticated till of ctx.
func tillFrom(ctx context.Context) (loyalty.Till, error) {
	p, _ := ctx.Value(principalKey{}).(principal)
	if p.till.ID == "" {
		return loyalty.Till{}, errors.New("no till in context: procedure missing from the audience table")
	}
	return p.till, nil
}

// operatorFrom returns the authenticated operator of ctx.
func operatorFrom(ctx context.Context) (loyalty.Operator, error) {
	p, _ := ctx.Value(principalKey{}).(principal)
	if p.operator.ID == "" {
		return loyalty.Operator{}, errors.New("no operator in context: procedure missing from the audience table")
	}
	return p.operator, nil
}

// authenticator is the interceptor that authenticates every call according
// to the audience table, before any handler runs.
type authenticator struct {
	verifier       TokenVerifier
	tills          func(ctx context.Context, key string) (loyalty.Till, error)
	operators      func(ctx context.Context, key string) (loyalty.Operator, error)
	defaultProgram string
	log            *slog.Logger
}

func (a *authenticator) authenticate(ctx context.Context, procedure string, h interface{ Get(string) string }) (context.Context, error) {
	who, ok := audiences[procedure]
	if !ok {
		return nil, connect.NewError(connect.CodePermissionDenied, fmt.Errorf("%s is not open to any caller", procedure))
	}
	token, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || token == "" {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New(`missing "Authorization: Bearer <token>" header`))
	}
	switch who {
	case customerSelf, customerSensitive:
		verify := a.verifier.VerifyIDToken
		if who == customerSensitive {
			verify = a.verifier.VerifyIDTokenAndCheckRevoked
		}
		id, err := verify(ctx, token)
		if err != nil {
			a.log.InfoContext(ctx, "customer token refused", "procedure", procedure, "err", err)
			return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("invalid ID token"))
		}
		program := h.Get(ProgramHeader)
		if program == "" {
			program = a.defaultProgram
		}
		if len(program) > 64 {
			return nil, connect.NewError(connect.CodeInvalidArgument, errors.New(ProgramHeader+" header is too long"))
		}
		return context.WithValue(ctx, principalKey{}, principal{customer: loyalty.Customer{ProgramID: program, UID: id.UID}, identity: id}), nil
	case tillOfProgram:
		t, err := a.tills(ctx, token)
		if err != nil {
			if errors.Is(err, loyalty.ErrUnauthenticated) {
				a.log.InfoContext(ctx, "store API key refused", "procedure", procedure, "key", redact.Key(token), "err", err)
				return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("unknown store API key"))
			}
			return nil, err
		}
		return context.WithValue(ctx, principalKey{}, principal{till: t}), nil
	case operatorOfProgram:
		o, err := a.operators(ctx, token)
		if err != nil {
			if errors.Is(err, loyalty.ErrUnauthenticated) {
				a.log.InfoContext(ctx, "operator API key refused", "procedure", procedure, "key", redact.Key(token), "err", err)
				return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("unknown operator API key"))
			}
			return nil, err
		}
		return context.WithValue(ctx, principalKey{}, principal{operator: o}), nil
	}
	return nil, connect.NewError(connect.CodeInternal, errors.New("internal error"))
}

// WrapUnary authenticates a unary call.
func (a *authenticator) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		ctx, err := a.authenticate(ctx, req.Spec().Procedure, req.Header())
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

// WrapStreamingClient leaves client streams alone.
func (a *authenticator) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler authenticates a streaming call.
func (a *authenticator) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := a.authenticate(ctx, conn.Spec().Procedure, conn.RequestHeader())
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}
