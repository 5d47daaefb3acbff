package sqlite

import (
	"context"
	"errors"
	"time"

	"github.com/treue/treue/loyalty"
)

// TODO(issue 9): the store helper implements these.

func (t *tx) MemberData(ctx context.Context, programID, memberID string) (loyalty.MemberData, error) {
	return loyalty.MemberData{}, errors.New("not implemented")
}

func (t *tx) SaveMemberProfile(ctx context.Context, m loyalty.Member) error {
	return errors.New("not implemented")
}

func (t *tx) EraseMember(ctx context.Context, programID, memberID string, at time.Time) (loyalty.ErasedData, error) {
	return loyalty.ErasedData{}, errors.New("not implemented")
}
