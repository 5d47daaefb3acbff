package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/treue/treue/loyalty"
)

// The actions of a Decision.
const (
	ActionSend   = "send"
	ActionDefer  = "defer"
	ActionSkip   = "skip"
	ActionExpire = "expire"
)

// The reasons of decisions, in Message.Reason.
const (
	reasonNoConsent     = "no consent"
	reasonNoDevice      = "no device"
	reasonUnknownMember = "unknown member"
	reasonDuplicate     = "duplicate"
	reasonQuietHours    = "quiet hours"
	reasonCap           = "frequency cap"
	reasonExpired       = "expired"
)

// Decision is what the dispatcher does with one due message.
type Decision struct {
	Message Message
	// Action is ActionSend, ActionDefer, ActionSkip or ActionExpire.
	Action string
	// Until is when a deferred message is due again.
	Until time.Time
	// Reason says why a message is deferred, skipped or expired.
	Reason string
	// Devices is how many devices a message to send goes to.
	Devices int
}

// policy is when a message may go out: outside quiet hours, within the
// frequency cap, not as a duplicate.
type policy struct {
	quietStart, quietEnd int // hours; equal means no quiet hours
	cap                  int // < 0: none
	capWindow            time.Duration
	dedup                time.Duration // <= 0: none
}

// quietUntil returns when the quiet hours t falls in end, in t's zone, or
// the zero time when t is outside them.
func (p policy) quietUntil(t time.Time) time.Time {
	h := t.Hour()
	var quiet bool
	switch {
	case p.quietStart == p.quietEnd:
		return time.Time{}
	case p.quietStart < p.quietEnd: // 1 to 6
		quiet = h >= p.quietStart && h < p.quietEnd
	default: // 21 to 8, over midnight
		quiet = h >= p.quietStart || h < p.quietEnd
	}
	if !quiet {
		return time.Time{}
	}
	y, m, d := t.Date()
	end := time.Date(y, m, d, p.quietEnd, 0, 0, 0, t.Location())
	if !end.After(t) {
		end = time.Date(y, m, d+1, p.quietEnd, 0, 0, 0, t.Location())
	}
	return end
}

// capUntil returns when one more message may go out to a member who was
// sent messages at sent (oldest first), or the zero time when one may go
// out now: when the oldest send that has to leave the window leaves it.
func (p policy) capUntil(sent []time.Time, now time.Time) time.Time {
	if p.cap < 0 {
		return time.Time{}
	}
	// A send leaves the window capWindow after it, so that the time
	// returned is always after now.
	from := now.Add(-p.capWindow)
	for len(sent) > 0 && !sent[0].After(from) {
		sent = sent[1:]
	}
	if len(sent) < p.cap {
		return time.Time{}
	}
	return sent[len(sent)-p.cap].Add(p.capWindow)
}

// round is what deciding one batch knows about its members: their
// recipients, their sends (from the store and planned in the round) and the
// digests planned in the round, so that caps and de-duplication hold
// within a batch too.
type round struct {
	now        time.Time
	recipients map[loyalty.MemberKey]*loyalty.Recipient // nil: unknown member
	sent       map[loyalty.MemberKey][]time.Time
	digests    map[loyalty.MemberKey]map[string]bool
}

// decide returns what to do with each of msgs at now, in their order, and
// the recipients it read. It returns the errors of Members and of the
// store's reads; it writes nothing.
func (d *Dispatcher) decide(ctx context.Context, now time.Time, msgs []Message) ([]Decision, map[loyalty.MemberKey]*loyalty.Recipient, error) {
	r := &round{
		now:        now,
		recipients: map[loyalty.MemberKey]*loyalty.Recipient{},
		sent:       map[loyalty.MemberKey][]time.Time{},
		digests:    map[loyalty.MemberKey]map[string]bool{},
	}
	out := make([]Decision, 0, len(msgs))
	for _, m := range msgs {
		dec, err := d.decideOne(ctx, r, m)
		if err != nil {
			return nil, nil, fmt.Errorf("notify: message %d: %w", m.ID, err)
		}
		out = append(out, dec)
	}
	return out, r.recipients, nil
}

// decideOne decides on m, noting in r what a send takes up: in order,
// expired, unknown member, no consent, no device, duplicate, quiet hours,
// frequency cap, else send.
func (d *Dispatcher) decideOne(ctx context.Context, r *round, m Message) (Decision, error) {
	now := r.now
	expired := func(at time.Time) bool { return !m.ExpiresAt.IsZero() && !at.Before(m.ExpiresAt) }
	if expired(now) {
		reason := reasonExpired
		if m.Reason != "" {
			reason += " (" + m.Reason + ")"
		}
		return Decision{Message: m, Action: ActionExpire, Reason: reason}, nil
	}
	k := loyalty.MemberKey{ProgramID: m.ProgramID, MemberID: m.MemberID}
	rec, ok := r.recipients[k]
	if !ok {
		got, err := d.members.Recipient(ctx, k)
		switch {
		case errors.Is(err, loyalty.ErrNotFound):
		case err != nil:
			return Decision{}, err
		default:
			rec = &got
		}
		r.recipients[k] = rec
	}
	switch {
	case rec == nil:
		return Decision{Message: m, Action: ActionSkip, Reason: reasonUnknownMember}, nil
	case !rec.Consented(m.Kind.Purpose()):
		return Decision{Message: m, Action: ActionSkip, Reason: reasonNoConsent}, nil
	case len(rec.Devices) == 0:
		return Decision{Message: m, Action: ActionSkip, Reason: reasonNoDevice}, nil
	}
	if d.policy.dedup > 0 && m.Digest != "" {
		dup := r.digests[k][m.Digest]
		if !dup {
			var err error
			if dup, err = d.store.SentDigest(ctx, m.ProgramID, m.MemberID, m.Digest, now.Add(-d.policy.dedup)); err != nil {
				return Decision{}, err
			}
		}
		if dup {
			return Decision{Message: m, Action: ActionSkip, Reason: reasonDuplicate}, nil
		}
	}
	hold := func(until time.Time, reason string) Decision {
		if expired(until) {
			return Decision{Message: m, Action: ActionExpire, Reason: reasonExpired + " (" + reason + ")"}
		}
		return Decision{Message: m, Action: ActionDefer, Until: until, Reason: reason}
	}
	if until := d.policy.quietUntil(now.In(zoneOf(*rec))); !until.IsZero() {
		return hold(until, reasonQuietHours), nil
	}
	sent, ok := r.sent[k]
	if !ok && d.policy.cap >= 0 {
		var err error
		if sent, err = d.store.SentSince(ctx, m.ProgramID, m.MemberID, now.Add(-d.policy.capWindow)); err != nil {
			return Decision{}, err
		}
	}
	if until := d.policy.capUntil(sent, now); !until.IsZero() {
		r.sent[k] = sent
		return hold(until, reasonCap), nil
	}
	r.sent[k] = append(sent, now)
	if r.digests[k] == nil {
		r.digests[k] = map[string]bool{}
	}
	r.digests[k][m.Digest] = true
	return Decision{Message: m, Action: ActionSend, Devices: len(rec.Devices)}, nil
}

// zoneOf returns the time zone of the member's quiet hours: that of the
// device seen most recently (the phone they carry), else the program's,
// else loyalty.DefaultTimeZone.
func zoneOf(r loyalty.Recipient) *time.Location {
	names := []string{r.TimeZone, loyalty.DefaultTimeZone}
	if len(r.Devices) > 0 {
		names = append([]string{r.Devices[0].TimeZone}, names...)
	}
	for _, n := range names {
		if n == "" {
			continue
		}
		if loc, ok := zones.Load(n); ok {
			return loc.(*time.Location)
		}
		if loc, err := time.LoadLocation(n); err == nil {
			zones.Store(n, loc)
			return loc
		}
	}
	return time.UTC
}

// zones caches time.LoadLocation, which reads the zone database each time.
var zones sync.Map // name → *time.Location
