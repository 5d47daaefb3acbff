// Package realtimetest is the test suite every realtime.Broker passes.
package realtimetest

import (
	"testing"

	"github.com/treue/treue/realtime"
)

// Open returns a broker for the test t. Every call with the same t returns a
// broker on the same backend (the same shared server, or the same
// in-process broker), so that a test can act as two replicas; calls with
// different tests return brokers that do not see each other's cards or
// changes. Open closes what it opens when t ends; Closing a broker twice
// must be harmless.
type Open func(t *testing.T) realtime.Broker

// Run runs the suite. Subtests run in parallel, so open must be safe for
// concurrent use.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Open)
	}{
		{"CardMiss", testCardMiss},
		{"CardRoundTrip", testCardRoundTrip},
		{"DeleteCard", testDeleteCard},
		{"PutCardVersions", testPutCardVersions},
		{"PutCardConcurrent", testPutCardConcurrent},
		{"SharedCache", testSharedCache},
		{"PublishListen", testPublishListen},
		{"OrderPerCard", testOrderPerCard},
		{"TwoListeners", testTwoListeners},
		{"ListenCancel", testListenCancel},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open)
		})
	}
}
