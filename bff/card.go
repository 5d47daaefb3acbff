package bff

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"connectrpc.com/connect"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/realtime"
)

// cardHandler serves treue.v1.CardService.
type cardHandler struct {
	svc   *loyalty.Service
	cards *realtime.Hub
	watch watchLimits
}

func (h cardHandler) GetCard(ctx context.Context, req *connect.Request[treuev1.GetCardRequest]) (*connect.Response[treuev1.GetCardResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if req.Msg.GetMinVersion() < 0 {
		return nil, fmt.Errorf("%w: min_version must not be negative", loyalty.ErrInvalid)
	}
	st, err := h.cards.Card(ctx, c, req.Msg.GetMinVersion())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.GetCardResponse{
		Card: toProtoCardState(st, stateLocale(req.Msg.GetLocale(), st)),
	}), nil
}

func (h cardHandler) ListActivity(ctx context.Context, req *connect.Request[treuev1.ListActivityRequest]) (*connect.Response[treuev1.ListActivityResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	size := int(req.Msg.GetPageSize())
	if size == 0 {
		size = loyalty.DefaultPageSize
	}
	before, err := parsePageToken(req.Msg.GetPageToken())
	if err != nil {
		return nil, err
	}
	entries, m, err := h.svc.Activity(ctx, c, before, size)
	if err != nil {
		return nil, err
	}
	l := localeOf(req.Msg.GetLocale(), m)
	res := &treuev1.ListActivityResponse{Activities: make([]*treuev1.Activity, 0, len(entries))}
	for _, e := range entries {
		res.Activities = append(res.Activities, toProtoActivity(e, l))
	}
	if len(entries) == size {
		res.NextPageToken = pageToken(entries[len(entries)-1].ID)
	}
	return connect.NewResponse(res), nil
}

// pageTokenPrefix versions page tokens, so their format can change.
const pageTokenPrefix = "a1:"

// pageToken returns the opaque token of the page below entry id.
func pageToken(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(pageTokenPrefix + strconv.FormatInt(id, 10)))
}

// parsePageToken returns the entry id a page token starts below (0 for the
// first page).
func parsePageToken(tok string) (int64, error) {
	if tok == "" {
		return 0, nil
	}
	bad := fmt.Errorf("%w: page_token is malformed: pass next_page_token from the previous response unchanged", loyalty.ErrInvalid)
	if len(tok) > 64 {
		return 0, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, bad
	}
	s, ok := strings.CutPrefix(string(raw), pageTokenPrefix)
	if !ok {
		return 0, bad
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, bad
	}
	return id, nil
}

func (h cardHandler) GetCardBarcode(ctx context.Context, req *connect.Request[treuev1.GetCardBarcodeRequest]) (*connect.Response[treuev1.GetCardBarcodeResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	format := req.Msg.GetFormat()
	if format == treuev1.BarcodeFormat_BARCODE_FORMAT_UNSPECIFIED {
		format = treuev1.BarcodeFormat_BARCODE_FORMAT_QR
	}
	width := int(req.Msg.GetWidthPx())
	if width == 0 {
		width = defaultBarcodeWidth
	}
	if err := checkBarcodeRequest(format, width); err != nil {
		return nil, err
	}
	card, err := h.svc.Card(ctx, c)
	if err != nil {
		return nil, err
	}
	payload := toProtoCard(card, loyalty.DefaultLocale).GetBarcodePayload()
	img, err := renderBarcode(format, payload, width)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.GetCardBarcodeResponse{
		Png:      img.png,
		Payload:  payload,
		Format:   format,
		WidthPx:  int32(img.width),
		HeightPx: int32(img.height),
	}), nil
}
