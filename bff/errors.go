package bff

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"connectrpc.com/connect"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/realtime"
)

// codes maps the domain's kinds of error to Connect codes.
var codes = []struct {
	kind error
	code connect.Code
}{
	{loyalty.ErrInvalid, connect.CodeInvalidArgument},
	{loyalty.ErrNotFound, connect.CodeNotFound},
	{loyalty.ErrNotEnrolled, connect.CodeFailedPrecondition},
	{loyalty.ErrInsufficientPoints, connect.CodeFailedPrecondition},
	{loyalty.ErrFailedPrecondition, connect.CodeFailedPrecondition},
	{loyalty.ErrConflict, connect.CodeAlreadyExists},
	{loyalty.ErrUnauthenticated, connect.CodeUnauthenticated},
	{loyalty.ErrLimit, connect.CodeResourceExhausted},
	{realtime.ErrTooManyWatches, connect.CodeResourceExhausted},
	{realtime.ErrTooSlow, connect.CodeResourceExhausted},
	{realtime.ErrDraining, connect.CodeUnavailable},
	{context.DeadlineExceeded, connect.CodeDeadlineExceeded},
	{context.Canceled, connect.CodeCanceled},
}

// toConnectError returns err as the client sees it: a domain error gets its
// code and its message without the kind (the code says that); any other
// error is not the client's to see, and public is false.
func toConnectError(err error) (_ *connect.Error, public bool) {
	for _, c := range codes {
		if errors.Is(err, c.kind) {
			msg := strings.TrimPrefix(err.Error(), c.kind.Error()+": ")
			return connect.NewError(c.code, errors.New(msg)), true
		}
	}
	return connect.NewError(connect.CodeInternal, errors.New("internal error")), false
}

// errorMapper is the interceptor that turns every error a handler returns
// into a Connect error: domain errors get their code and message, anything
// else is logged and reaches the client as a bare "internal error", so no
// internal detail leaks.
type errorMapper struct {
	log *slog.Logger
}

func (m errorMapper) mapError(ctx context.Context, procedure string, err error) error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return err
	}
	ce, public := toConnectError(err)
	if !public {
		m.log.ErrorContext(ctx, "internal error", "procedure", procedure, "err", err)
	}
	return ce
}

// WrapUnary maps a unary handler's error.
func (m errorMapper) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		res, err := next(ctx, req)
		if req.Spec().IsClient {
			return res, err
		}
		return res, m.mapError(ctx, req.Spec().Procedure, err)
	}
}

// WrapStreamingClient leaves client streams alone.
func (m errorMapper) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler maps a streaming handler's error.
func (m errorMapper) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		return m.mapError(ctx, conn.Spec().Procedure, next(ctx, conn))
	}
}
