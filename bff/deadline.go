package bff

import (
	"context"
	"time"

	"connectrpc.com/connect"
)

// DefaultMaxCallDuration bounds a unary call when Config.MaxCallDuration is
// zero: far beyond any call's normal time, well within the HTTP server's
// write timeout.
const DefaultMaxCallDuration = 15 * time.Second

// callDeadline is the interceptor that bounds a unary call's context by
// max, whatever deadline the client asked for (Connect-Timeout-Ms,
// grpc-timeout): a shorter one stays, a longer one or none becomes max.
// Server streams (WatchCard, ExportMyData) are left alone: they have their
// own limits.
type callDeadline struct {
	max time.Duration
}

// WrapUnary bounds a unary handler's context.
func (d callDeadline) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		ctx, cancel := context.WithTimeout(ctx, d.max)
		defer cancel()
		return next(ctx, req)
	}
}

// WrapStreamingClient leaves client streams alone.
func (d callDeadline) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler leaves streams alone.
func (d callDeadline) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}
