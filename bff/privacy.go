package bff

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// privacyHandler serves PrivacyService.
type privacyHandler struct {
	svc *loyalty.Service
}

func (h privacyHandler) ExportMyData(ctx context.Context, _ *connect.Request[treuev1.ExportMyDataRequest], stream *connect.ServerStream[treuev1.ExportMyDataResponse]) error {
	return connect.NewError(connect.CodeUnimplemented, errors.New("not yet"))
}

func (h privacyHandler) DeleteMyAccount(ctx context.Context, _ *connect.Request[treuev1.DeleteMyAccountRequest]) (*connect.Response[treuev1.DeleteMyAccountResponse], error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errors.New("not yet"))
}

func (h accountHandler) UpdateProfile(ctx context.Context, _ *connect.Request[treuev1.UpdateProfileRequest]) (*connect.Response[treuev1.UpdateProfileResponse], error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errors.New("not yet"))
}

func (h adminHandler) EraseMember(ctx context.Context, _ *connect.Request[treuev1.EraseMemberRequest]) (*connect.Response[treuev1.EraseMemberResponse], error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errors.New("not yet"))
}
