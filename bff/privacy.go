package bff

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// privacyHandler serves PrivacyService.
type privacyHandler struct {
	svc *loyalty.Service
}

// exportChunkBytes is the most of the export document one message carries.
const exportChunkBytes = 256 << 10

func (h privacyHandler) ExportMyData(ctx context.Context, _ *connect.Request[treuev1.ExportMyDataRequest], stream *connect.ServerStream[treuev1.ExportMyDataResponse]) error {
	c, err := customerFrom(ctx)
	if err != nil {
		return err
	}
	x, err := h.svc.Export(ctx, c)
	if err != nil {
		return err
	}
	doc, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return fmt.Errorf("encode export: %w", err)
	}
	first := &treuev1.ExportMyDataResponse{
		FileName:    fmt.Sprintf("treue-export-%s-%s.json", x.Program.ID, x.ExportedAt.Format("2006-01-02")),
		ContentType: "application/json",
		TotalBytes:  int64(len(doc)),
	}
	msg := first
	for chunk := range slices.Chunk(doc, exportChunkBytes) {
		msg.Chunk = chunk
		if err := stream.Send(msg); err != nil {
			return err
		}
		msg = &treuev1.ExportMyDataResponse{}
	}
	return nil
}

func (h privacyHandler) DeleteMyAccount(ctx context.Context, _ *connect.Request[treuev1.DeleteMyAccountRequest]) (*connect.Response[treuev1.DeleteMyAccountResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	id, err := identityFrom(ctx)
	if err != nil {
		return nil, err
	}
	e, err := h.svc.DeleteAccount(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.DeleteMyAccountResponse{Erasure: toProtoErasure(e)}), nil
}

func (h adminHandler) EraseMember(ctx context.Context, req *connect.Request[treuev1.EraseMemberRequest]) (*connect.Response[treuev1.EraseMemberResponse], error) {
	op, err := operatorFrom(ctx)
	if err != nil {
		return nil, err
	}
	e, err := h.svc.EraseMember(ctx, op, req.Msg.GetCardNumber(), req.Msg.GetReason())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.EraseMemberResponse{Erasure: toProtoErasure(e)}), nil
}

// profileFields are the fields UpdateProfileRequest.update_mask may name.
var profileFields = []string{"name", "email", "birthday"}

func (h accountHandler) UpdateProfile(ctx context.Context, req *connect.Request[treuev1.UpdateProfileRequest]) (*connect.Response[treuev1.UpdateProfileResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	mask := req.Msg.GetUpdateMask()
	if len(mask) == 0 || len(mask) > len(profileFields) {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("update_mask must name 1 to %d of %v", len(profileFields), profileFields))
	}
	var u loyalty.ProfileUpdate
	for _, f := range mask {
		switch f {
		case "name":
			u.Name = &req.Msg.Name
		case "email":
			u.Email = &req.Msg.Email
		case "birthday":
			b := req.Msg.GetBirthday()
			if b != nil && (b.GetMonth() < 1 || b.GetMonth() > 12) {
				return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("birthday.month %d, want 1 to 12", b.GetMonth()))
			}
			lb := loyalty.Birthday{}
			if b != nil {
				lb = loyalty.Birthday{Month: time.Month(b.GetMonth()), Day: int(b.GetDay())}
				if lb.IsZero() {
					return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("birthday has no month and day: leave it unset to remove it"))
				}
			}
			u.Birthday = &lb
		default:
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("update_mask names %q, want one of %v", f, profileFields))
		}
	}
	p, err := h.svc.UpdateProfile(ctx, c, u)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.UpdateProfileResponse{Profile: toProtoProfile(p)}), nil
}

// toProtoErasure converts an erasure.
func toProtoErasure(e loyalty.Erasure) *treuev1.Erasure {
	passes := e.Removed.ApplePasses
	if e.Removed.GoogleObjectID != "" {
		passes++
	}
	return &treuev1.Erasure{
		MemberId:       e.MemberID,
		EraseTime:      timestamppb.New(e.At),
		VouchersVoided: int32(e.VouchersVoided),
		HoldsReleased:  int32(e.HoldsReleased),
		DevicesRemoved: int32(len(e.Removed.Devices)),
		PassesRemoved:  int32(passes),
		BalanceKept:    e.BalanceKept,
	}
}
