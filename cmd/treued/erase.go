package main

import (
	"context"
	"time"

	"github.com/treue/treue/loyalty"
)

// voidTimeout bounds voiding an erased member's Google Wallet object,
// retries included.
const voidTimeout = 2 * time.Minute

// erased removes an erased member's data from outside the store: the
// cached and watched card, the recorded pushes and the Google Wallet
// object (in the background: Google's answer must not hold up the
// erasure). Failures are logged with the pseudonymous member id only.
func (s *server) erased(ctx context.Context, e loyalty.Erasure) {
	log := s.log.With("program", e.ProgramID, "member", e.MemberID)
	log.Info("member erased", "by", e.By, "reason", e.Reason, "vouchers_voided", e.VouchersVoided,
		"holds_released", e.HoldsReleased, "devices", len(e.Removed.Devices),
		"apple_passes", e.Removed.ApplePasses, "google_object", e.Removed.GoogleObjectID != "", "balance_kept", e.BalanceKept)
	if err := s.hub.Forget(ctx, e.Card); err != nil {
		log.Error("erasure: cached card not removed; it expires with the cache TTL", "err", err)
	}
	if s.push.recorder != nil {
		s.push.recorder.Forget(e.Removed.Devices)
	}
	if id := e.Removed.GoogleObjectID; id != "" && s.google != nil {
		s.background.Go(func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), voidTimeout)
			defer cancel()
			if err := s.google.syncer.Void(ctx, id); err != nil {
				log.Error("erasure: Google Wallet object not voided; void it in the Google Pay & Wallet console", "err", err)
				return
			}
			log.Info("erasure: Google Wallet object voided")
		})
	}
}
