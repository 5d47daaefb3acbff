package googlepass

import (
	"cmp"
	"fmt"
	"time"

	"google.golang.org/api/walletobjects/v1"

	"github.com/treue/treue/loyalty"
)

// messageKind says why a message is added to an object.
type messageKind int

const (
	messageTier messageKind = iota + 1
	messageExpiry
)

// message is a message a sync adds to an object, with what it tells.
type message struct {
	kind messageKind
	msg  *walletobjects.Message
	// tier is the new tier's key (tierKey), for messageTier.
	tier string
	// expiry is when the points expire, for messageExpiry.
	expiry time.Time
}

// Texts of the messages.
var (
	tierHeader = loyalty.Text{DE: "Neuer Status", EN: "New tier"}
)

// messages returns the messages a sync of card st adds to the object of
// pass at now: the new tier when it differs from the one the object
// showed (not on the first sync, which just shows it), and a warning when
// points expire within ExpiryWarning and the member has not been warned of
// that date.
func (s *Syncer) messages(pass Pass, p loyalty.Program, st loyalty.CardState, now time.Time) []message {
	var out []message
	if tier := tierKey(st); tier != "" && tier != pass.Tier && !pass.SyncedAt.IsZero() {
		out = append(out, tierMessage(st, tier))
	}
	expiry := st.NextExpiry.Round(0).Truncate(time.Microsecond)
	if st.NextExpiryPoints > 0 && expiry.After(now) && expiry.Sub(now) <= s.cfg.ExpiryWarning && !expiry.Equal(pass.ExpiryWarned) {
		out = append(out, expiryMessage(p, st, expiry))
	}
	return out
}

// tierKey returns what identifies st's tier across locales: its German
// name, else its English one; empty for none.
func tierKey(st loyalty.CardState) string {
	return cmp.Or(st.TierName.DE, st.TierName.EN)
}

// tierMessage returns the message announcing st's tier, whose key is tier.
func tierMessage(st loyalty.CardState, tier string) message {
	name := loyalty.Text{DE: cmp.Or(st.TierName.DE, st.TierName.EN), EN: cmp.Or(st.TierName.EN, st.TierName.DE)}
	body := loyalty.Text{DE: "Du bist jetzt " + name.DE + ".", EN: "You are now " + name.EN + "."}
	return message{
		kind: messageTier,
		tier: tier,
		msg: &walletobjects.Message{
			Id:              fmt.Sprintf("tier-%d", st.Version),
			Header:          tierHeader.In(st.Locale),
			LocalizedHeader: localizedText(tierHeader),
			Body:            body.In(st.Locale),
			LocalizedBody:   localizedText(body),
		},
	}
}

// expiryMessage returns the message warning that st's next points expire
// at expiry; it is shown until then.
func expiryMessage(p loyalty.Program, st loyalty.CardState, expiry time.Time) message {
	header, body := expiryTexts(pointNames(st.PointName), st.NextExpiryPoints, expiry.In(programLocation(p.TimeZone)))
	return message{
		kind:   messageExpiry,
		expiry: expiry,
		msg: &walletobjects.Message{
			Id:              fmt.Sprintf("expiry-%d", expiry.Unix()),
			Header:          header.In(st.Locale),
			LocalizedHeader: localizedText(header),
			Body:            body.In(st.Locale),
			LocalizedBody:   localizedText(body),
			DisplayInterval: &walletobjects.TimeInterval{
				End: &walletobjects.DateTime{Date: expiry.UTC().Format(time.RFC3339)},
			},
		},
	}
}
