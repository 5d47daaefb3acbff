// Package notify sends members push notifications: what happened to their
// account (points earned, a challenge completed, a reward ready, a new
// tier) and reminders (points about to expire, a challenge ending, a
// birthday reward waiting), in their language, within their consent,
// outside quiet hours and not too often.
//
// Messages are queued in the store with a key unique per program, so a
// change delivered twice or a reminder computed on several replicas is
// queued once. One replica at a time (by a lease in the store) sends what
// is due, through a Sender: FCM (package fcm) or the in-process Recorder.
package notify

import (
	"context"
	"time"

	"github.com/treue/treue/loyalty"
)

// Kind is what a message is about.
type Kind string

// The kinds of messages.
const (
	KindPointsEarned       Kind = "points_earned"
	KindChallengeCompleted Kind = "challenge_completed"
	KindRewardReady        Kind = "reward_ready"
	KindTierChanged        Kind = "tier_changed"
	KindPointsExpiring     Kind = "points_expiring"
	KindChallengeEnding    Kind = "challenge_ending"
	KindBirthdayReward     Kind = "birthday_reward"
	KindMarketing          Kind = "marketing"
)

// Purpose returns the consent purpose a message of kind k needs.
func (k Kind) Purpose() loyalty.Purpose {
	if k == KindMarketing {
		return loyalty.PurposeMarketingPush
	}
	return loyalty.PurposeTransactionalPush
}

// State is where a message is in its life.
type State string

// The states of a message. Only pending messages change.
const (
	StatePending State = "pending"
	StateSent    State = "sent"
	// StateSkipped: not sent, by the member's choice or circumstances (no
	// consent, no device, a duplicate); Reason says which.
	StateSkipped State = "skipped"
	// StateExpired: not sent before ExpiresAt (held by caps or quiet hours
	// for too long).
	StateExpired State = "expired"
	// StateFailed: FCM refused it for every device, or it failed
	// MaxAttempts times.
	StateFailed State = "failed"
)

// Message is one notification to one member, on all their devices.
type Message struct {
	// ID is the store's id, set by Enqueue.
	ID        int64
	ProgramID string
	MemberID  string
	Kind      Kind
	// Key is unique per program: "entry:123", "expiring:30:<member>:2026-07-01".
	Key   string
	Title loyalty.Text
	Body  loyalty.Text
	// Data is the payload the app deep-links from ("link": "treue://...").
	Data map[string]string
	// Digest is equal for identical messages (kind, title and body), for
	// de-duplication.
	Digest    string
	CreatedAt time.Time
	// NotBefore is when the message may go out; quiet hours and caps move
	// it later.
	NotBefore time.Time
	// ExpiresAt is when an unsent message is no longer worth sending.
	ExpiresAt time.Time
	State     State
	Attempts  int
	SentAt    time.Time
	// Reason says why a message was deferred, skipped, expired or failed.
	Reason string
}

// Store keeps the message queue and the sender's lease. store/sqlite and
// store/postgres implement it.
type Store interface {
	// Enqueue stores m as pending and sets m.ID, and returns true; it
	// returns false and stores nothing when the program has a message
	// with m.Key.
	Enqueue(ctx context.Context, m *Message) (bool, error)
	// AcquireLease takes or renews the lease name for holder until
	// now+ttl and returns true, or returns false when another holder has
	// it beyond now.
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	// Due returns up to limit pending messages whose NotBefore is at or
	// before now, soonest NotBefore first, then by ID.
	Due(ctx context.Context, now time.Time, limit int) ([]Message, error)
	// SaveMessage writes m's State, NotBefore, Attempts, SentAt and
	// Reason.
	SaveMessage(ctx context.Context, m Message) error
	// SentSince returns when the member's sent messages were sent, for
	// those sent at or after since, oldest first.
	SentSince(ctx context.Context, programID, memberID string, since time.Time) ([]time.Time, error)
	// SentDigest reports whether a message with digest was sent to the
	// member at or after since.
	SentDigest(ctx context.Context, programID, memberID, digest string, since time.Time) (bool, error)
	// Messages returns up to limit of the member's messages, newest first.
	Messages(ctx context.Context, programID, memberID string, limit int) ([]Message, error)
}

// Push is one message to one device.
type Push struct {
	Token string
	Title string
	Body  string
	Data  map[string]string
	// Collapse lets the device show only the newest push of one kind.
	Collapse string
	// TTL is how long FCM keeps trying to reach an offline device.
	TTL time.Duration
}

// Result is what became of one Push.
type Result struct {
	// Err is nil when FCM accepted the push.
	Err error
	// Unregistered: the token is no longer valid and should be removed.
	Unregistered bool
	// Retryable: the push failed for now (quota, an outage) after the
	// sender's own retries; it may succeed later.
	Retryable bool
}

// Sender delivers pushes.
type Sender interface {
	// Send delivers pushes and returns one Result per push, in order. It
	// returns an error only when it could not try at all (ctx ended).
	Send(ctx context.Context, pushes []Push) ([]Result, error)
}

// Members is what notify reads about members and changes in the loyalty
// service.
type Members interface {
	// Recipient returns where and how to reach the member.
	Recipient(ctx context.Context, k loyalty.MemberKey) (loyalty.Recipient, error)
	// RemoveDeviceTokens removes tokens FCM reported as unregistered.
	RemoveDeviceTokens(ctx context.Context, programID string, tokens []string) error
}
