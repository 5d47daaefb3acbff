package bff

import (
	"context"
	"errors"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/wallet/applepass"
)

// ApplePasses issues members' Apple Wallet passes. *applepass.Service
// implements it.
type ApplePasses interface {
	ForCustomer(ctx context.Context, c loyalty.Customer) (applepass.Issued, error)
	DownloadURL(rec applepass.Record) (link string, expires time.Time)
	PassTypeID() string
	Development() bool
}

// GooglePasses makes Save to Google Wallet links. *googlepass.Service
// implements it.
type GooglePasses interface {
	// SaveLink returns the customer's link and the id of their loyalty
	// object, or an error wrapping loyalty.ErrNotEnrolled.
	SaveLink(ctx context.Context, c loyalty.Customer) (link, objectID string, err error)
	Development() bool
}

// errNoGooglePasses is returned when the server has no Google Wallet issuer.
var errNoGooglePasses = connect.NewError(connect.CodeUnavailable, errors.New("this server makes no Google Wallet links: it has no Google Wallet issuer"))

// errNoApplePasses is returned when the server has no pass certificate.
var errNoApplePasses = connect.NewError(connect.CodeUnavailable, errors.New("this server issues no Apple Wallet passes: it has no pass certificate"))

// walletHandler serves treue.v1.WalletService.
type walletHandler struct {
	apple  ApplePasses
	google GooglePasses
}

func (h walletHandler) GetApplePass(ctx context.Context, req *connect.Request[treuev1.GetApplePassRequest]) (*connect.Response[treuev1.GetApplePassResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if h.apple == nil {
		return nil, errNoApplePasses
	}
	delivery := req.Msg.GetDelivery()
	switch delivery {
	case treuev1.ApplePassDelivery_APPLE_PASS_DELIVERY_UNSPECIFIED, treuev1.ApplePassDelivery_APPLE_PASS_DELIVERY_FILE, treuev1.ApplePassDelivery_APPLE_PASS_DELIVERY_LINK:
	default:
		return nil, fmt.Errorf("%w: unknown delivery %d", loyalty.ErrInvalid, delivery)
	}
	issued, err := h.apple.ForCustomer(ctx, c)
	if err != nil {
		return nil, err
	}
	res := &treuev1.GetApplePassResponse{
		ContentType:        applepass.ContentType,
		PassTypeIdentifier: issued.Record.PassTypeID,
		SerialNumber:       issued.Record.Serial,
		Balance:            issued.Card.Balance,
		Development:        h.apple.Development(),
	}
	if delivery == treuev1.ApplePassDelivery_APPLE_PASS_DELIVERY_LINK {
		link, expires := h.apple.DownloadURL(issued.Record)
		res.DownloadUrl, res.DownloadUrlExpireTime = link, timestamppb.New(expires)
	} else {
		res.Pkpass = issued.PKPass
	}
	return connect.NewResponse(res), nil
}

func (h walletHandler) GetGoogleWalletLink(ctx context.Context, _ *connect.Request[treuev1.GetGoogleWalletLinkRequest]) (*connect.Response[treuev1.GetGoogleWalletLinkResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if h.google == nil {
		return nil, errNoGooglePasses
	}
	link, id, err := h.google.SaveLink(ctx, c)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.GetGoogleWalletLinkResponse{
		SaveUrl: link, ObjectId: id, Development: h.google.Development(),
	}), nil
}
