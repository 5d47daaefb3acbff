package googlepass

import (
	"context"
	"errors"
	"net/http"

	"github.com/treue/treue/loyalty"
)

// EnsureClasses writes each program's loyalty class: it inserts the class,
// or replaces it where Google has it already, so that a start after the
// program's name, design or texts changed updates every card. Temporary
// failures are retried as the Syncer's calls are. It returns the errors of
// the classes it could not write, joined.
func (s *Syncer) EnsureClasses(ctx context.Context, programs []loyalty.Program, urls ClassURLs) error {
	var errs []error
	for _, p := range programs {
		c := NewLoyaltyClass(s.cfg.IssuerID, p, urls)
		err := s.call(ctx, ctx, func(ctx context.Context) error { return s.cfg.API.InsertClass(ctx, c) })
		if statusOf(err) == http.StatusConflict {
			err = s.call(ctx, ctx, func(ctx context.Context) error { return s.cfg.API.UpdateClass(ctx, c) })
		}
		if err == nil {
			s.log.Info("googlepass: loyalty class written", "class", c.Id)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
