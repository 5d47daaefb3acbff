package bff

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

var platforms = map[treuev1.Platform]loyalty.Platform{
	treuev1.Platform_PLATFORM_IOS:     loyalty.PlatformIOS,
	treuev1.Platform_PLATFORM_ANDROID: loyalty.PlatformAndroid,
	treuev1.Platform_PLATFORM_WEB:     loyalty.PlatformWeb,
}

func (h accountHandler) RegisterDevice(ctx context.Context, req *connect.Request[treuev1.RegisterDeviceRequest]) (*connect.Response[treuev1.RegisterDeviceResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	pd := req.Msg.GetDevice()
	if pd == nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("device is required"))
	}
	platform, ok := platforms[pd.GetPlatform()]
	if !ok {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("device.platform must be PLATFORM_IOS, PLATFORM_ANDROID or PLATFORM_WEB"))
	}
	l, err := parseLocale(pd.GetLocale())
	if err != nil {
		return nil, err
	}
	d, err := h.svc.RegisterDevice(ctx, c, loyalty.Device{
		Token: pd.GetPushToken(), Platform: platform, Locale: l,
		AppVersion: pd.GetAppVersion(), TimeZone: pd.GetTimeZone(),
	})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.RegisterDeviceResponse{Device: toProtoDevice(d)}), nil
}

func (h accountHandler) UnregisterDevice(ctx context.Context, req *connect.Request[treuev1.UnregisterDeviceRequest]) (*connect.Response[treuev1.UnregisterDeviceResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.svc.UnregisterDevice(ctx, c, req.Msg.GetPushToken()); err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.UnregisterDeviceResponse{}), nil
}

func (h accountHandler) ListDevices(ctx context.Context, _ *connect.Request[treuev1.ListDevicesRequest]) (*connect.Response[treuev1.ListDevicesResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	devices, err := h.svc.Devices(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make([]*treuev1.Device, len(devices))
	for i, d := range devices {
		out[i] = toProtoDevice(d)
	}
	return connect.NewResponse(&treuev1.ListDevicesResponse{Devices: out}), nil
}

func toProtoDevice(d loyalty.Device) *treuev1.Device {
	var platform treuev1.Platform
	for p, lp := range platforms {
		if lp == d.Platform {
			platform = p
		}
	}
	return &treuev1.Device{
		PushToken: d.Token, Platform: platform, Locale: toProtoLocale(d.Locale),
		AppVersion: d.AppVersion, TimeZone: d.TimeZone,
		RegisterTime: optTime(d.RegisteredAt), LastSeenTime: optTime(d.SeenAt),
	}
}
