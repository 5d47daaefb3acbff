package applepasstest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/wallet/applepass"
)

func testRegister(t *testing.T, e *env) {
	p := e.create(e.record(e.enroll("u1"), typeA))
	t1 := e.clock.Now()
	if !e.register("dev", p, "tok-1", t1) {
		t.Error("first Register: created = false, want true")
	}
	want := []applepass.Registration{{DeviceID: "dev", PassTypeID: typeA, Serial: p.Serial, PushToken: "tok-1", CreatedAt: stored(t1)}}
	if diff := cmp.Diff(want, e.registrations(p)); diff != "" {
		t.Errorf("registrations (-want +got):\n%s", diff)
	}

	// Registering again updates the push token and the time: APNs's
	// verdicts on the token before it no longer apply.
	e.clock.Advance(time.Minute)
	if e.register("dev", p, "tok-2", e.clock.Now()) {
		t.Error("second Register: created = true, want false")
	}
	want[0].PushToken, want[0].CreatedAt = "tok-2", stored(e.clock.Now())
	if diff := cmp.Diff(want, e.registrations(p)); diff != "" {
		t.Errorf("registrations after registering again (-want +got):\n%s", diff)
	}

	// Passes that do not exist.
	for _, r := range []applepass.Registration{
		{DeviceID: "dev", PassTypeID: typeA, Serial: "00", PushToken: "tok", CreatedAt: t1},
		{DeviceID: "dev", PassTypeID: typeB, Serial: p.Serial, PushToken: "tok", CreatedAt: t1},
	} {
		created, err := e.store.Register(e.ctx, r)
		if !errors.Is(err, loyalty.ErrNotFound) || created {
			t.Errorf("Register(%s, %s) = %v, %v; want an error wrapping %q", r.PassTypeID, r.Serial, created, err, loyalty.ErrNotFound)
		}
	}
	if diff := cmp.Diff(want, e.registrations(p)); diff != "" {
		t.Errorf("registrations after refusals (-want +got):\n%s", diff)
	}
}

func testRegisterConcurrent(t *testing.T, e *env) {
	p := e.create(e.record(e.enroll("u1"), typeA))
	const n = 8
	created := make([]bool, n)
	errs := make([]error, n)
	parallel(n, func(i int) {
		created[i], errs[i] = e.store.Register(e.ctx, applepass.Registration{
			DeviceID: "dev", PassTypeID: typeA, Serial: p.Serial, PushToken: fmt.Sprint("tok-", i), CreatedAt: e.clock.Now(),
		})
	})
	n1 := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("Register %d: %v", i, err)
		}
		if created[i] {
			n1++
		}
	}
	if n1 != 1 {
		t.Errorf("%d of %d concurrent Registers of one device created the registration, want 1", n1, n)
	}
	if rs := e.registrations(p); len(rs) != 1 {
		t.Errorf("%d registrations, want 1: %+v", len(rs), rs)
	}
}

func testDevicesPerPass(t *testing.T, e *env) {
	m := e.enroll("u1")
	p := e.create(e.record(m, typeA))
	device := func(i int) string { return fmt.Sprint("dev-", i) }
	for i := range applepass.MaxDevicesPerPass {
		if !e.register(device(i), p, "tok", e.clock.Now()) {
			t.Fatalf("Register device %d: created = false", i)
		}
	}
	extra := applepass.Registration{DeviceID: "dev-extra", PassTypeID: typeA, Serial: p.Serial, PushToken: "tok", CreatedAt: e.clock.Now()}
	created, err := e.store.Register(e.ctx, extra)
	if !errors.Is(err, applepass.ErrTooManyRegistrations) || created {
		t.Fatalf("Register of device %d = %v, %v; want an error wrapping %q", applepass.MaxDevicesPerPass+1, created, err, applepass.ErrTooManyRegistrations)
	}
	// A device registered already may register again.
	if e.register(device(0), p, "tok-new", e.clock.Now()) {
		t.Error("registering a registered device again at the limit: created = true")
	}
	if got := len(e.registrations(p)); got != applepass.MaxDevicesPerPass {
		t.Errorf("%d registrations, want %d", got, applepass.MaxDevicesPerPass)
	}
	// Room made, another device fits.
	found, err := e.store.Unregister(e.ctx, device(3), typeA, p.Serial)
	e.must(err)
	if !found {
		t.Fatal("Unregister: found = false")
	}
	if !e.register(extra.DeviceID, p, "tok", e.clock.Now()) {
		t.Error("Register after Unregister: created = false")
	}

	// Concurrent registrations of many devices stop at the limit.
	q := e.create(e.record(m, typeB))
	const n = 2 * applepass.MaxDevicesPerPass
	errs := make([]error, n)
	parallel(n, func(i int) {
		_, errs[i] = e.store.Register(e.ctx, applepass.Registration{
			DeviceID: device(i), PassTypeID: typeB, Serial: q.Serial, PushToken: "tok", CreatedAt: e.clock.Now(),
		})
	})
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, applepass.ErrTooManyRegistrations):
			t.Errorf("concurrent Register %d: %v", i, err)
		}
	}
	if got := len(e.registrations(q)); ok != applepass.MaxDevicesPerPass || got != ok {
		t.Errorf("%d concurrent Registers succeeded and %d registrations stored, want %d", ok, got, applepass.MaxDevicesPerPass)
	}
}

func testPassesPerDevice(t *testing.T, e *env) {
	// One member's passes of many types: the limit counts every type.
	m := e.enroll("u1")
	passes := make([]applepass.Record, applepass.MaxPassesPerDevice+1)
	for i := range passes {
		passes[i] = e.create(e.record(m, fmt.Sprintf("pass.com.example.t%03d", i)))
	}
	for _, p := range passes[:applepass.MaxPassesPerDevice] {
		if !e.register("dev", p, "tok", e.clock.Now()) {
			t.Fatalf("Register for %s: created = false", p.PassTypeID)
		}
	}
	last := passes[applepass.MaxPassesPerDevice]
	r := applepass.Registration{DeviceID: "dev", PassTypeID: last.PassTypeID, Serial: last.Serial, PushToken: "tok", CreatedAt: e.clock.Now()}
	created, err := e.store.Register(e.ctx, r)
	if !errors.Is(err, applepass.ErrTooManyRegistrations) || created {
		t.Fatalf("Register for pass %d = %v, %v; want an error wrapping %q", applepass.MaxPassesPerDevice+1, created, err, applepass.ErrTooManyRegistrations)
	}
	if e.register("dev", passes[0], "tok-new", e.clock.Now()) {
		t.Error("registering again at the limit: created = true")
	}
	// The limit is the device's: another device registers.
	if !e.register("other-dev", last, "tok", e.clock.Now()) {
		t.Error("Register of another device: created = false")
	}
	found, err := e.store.Unregister(e.ctx, "dev", passes[7].PassTypeID, passes[7].Serial)
	e.must(err)
	if !found {
		t.Fatal("Unregister: found = false")
	}
	if !e.register("dev", last, "tok", e.clock.Now()) {
		t.Error("Register after Unregister: created = false")
	}
}

func testUnregister(t *testing.T, e *env) {
	m := e.enroll("u1")
	p, q := e.create(e.record(m, typeA)), e.create(e.record(m, typeB))
	e.register("dev", p, "tok", e.clock.Now())
	e.register("other-dev", p, "tok", e.clock.Now())
	e.register("dev", q, "tok", e.clock.Now())
	unregister := func(device, passType, serial string) bool {
		t.Helper()
		found, err := e.store.Unregister(e.ctx, device, passType, serial)
		e.must(err)
		return found
	}
	if !unregister("dev", typeA, p.Serial) {
		t.Error("Unregister: found = false")
	}
	if unregister("dev", typeA, p.Serial) {
		t.Error("second Unregister: found = true")
	}
	if unregister("unknown-dev", typeA, p.Serial) || unregister("dev", typeA, "00") || unregister("other-dev", typeB, p.Serial) {
		t.Error("Unregister of a registration that does not exist: found = true")
	}
	if rs := e.registrations(p); len(rs) != 1 || rs[0].DeviceID != "other-dev" {
		t.Errorf("registrations of the pass = %+v, want other-dev's", rs)
	}
	if rs := e.registrations(q); len(rs) != 1 || rs[0].DeviceID != "dev" {
		t.Errorf("registrations of the other pass = %+v, want dev's", rs)
	}
	e.wantUpdated("dev", typeA, time.Time{}, nil, time.Time{})
}

func testRegistrations(t *testing.T, e *env) {
	m := e.enroll("u1")
	p, q := e.create(e.record(m, typeA)), e.create(e.record(m, typeB))
	at := func(d time.Duration) time.Time { return start.Add(d) }
	e.register("dev-c", p, "tok-c", at(time.Second))
	e.register("dev-a", p, "tok-a", at(3*time.Second))
	e.register("dev-b", p, "tok-b", at(2*time.Second))
	e.register("dev-d", q, "tok-d", at(0))
	want := []applepass.Registration{
		{DeviceID: "dev-c", PassTypeID: typeA, Serial: p.Serial, PushToken: "tok-c", CreatedAt: stored(at(time.Second))},
		{DeviceID: "dev-b", PassTypeID: typeA, Serial: p.Serial, PushToken: "tok-b", CreatedAt: stored(at(2 * time.Second))},
		{DeviceID: "dev-a", PassTypeID: typeA, Serial: p.Serial, PushToken: "tok-a", CreatedAt: stored(at(3 * time.Second))},
	}
	if diff := cmp.Diff(want, e.registrations(p)); diff != "" {
		t.Errorf("registrations, oldest first (-want +got):\n%s", diff)
	}
	for _, c := range []struct{ passType, serial string }{{typeA, "00"}, {typeB, p.Serial}} {
		rs, err := e.store.Registrations(e.ctx, c.passType, c.serial)
		if err != nil || len(rs) != 0 {
			t.Errorf("Registrations(%s, %s) = %+v, %v; want none", c.passType, c.serial, rs, err)
		}
	}
}

func testDeleteByToken(t *testing.T, e *env) {
	m1, m2 := e.enroll("u1"), e.enroll("u2")
	p1, p2, p3 := e.create(e.record(m1, typeA)), e.create(e.record(m2, typeA)), e.create(e.record(m1, typeB))
	t0 := start.Add(time.Minute)
	e.register("dev-1", p1, "tok-x", t0)
	e.register("dev-2", p2, "tok-x", t0.Add(2*time.Second))
	e.register("dev-3", p1, "tok-y", t0)
	e.register("dev-4", p3, "tok-x", t0)
	del := func(passType, token string, before time.Time, want int) {
		t.Helper()
		n, err := e.store.DeleteRegistrationsByToken(e.ctx, passType, token, before)
		e.must(err)
		if n != want {
			t.Errorf("DeleteRegistrationsByToken(%s, %s, %v) = %d, want %d", passType, token, before, n, want)
		}
	}
	del(typeA, "tok-x", t0.Add(time.Second), 1)
	// dev-2's registration is kept to the microsecond: a nanosecond
	// before that keeps it, and before is inclusive.
	at2 := stored(t0.Add(2 * time.Second))
	del(typeA, "tok-x", at2.Add(-time.Nanosecond), 0)
	del(typeA, "tok-x", at2, 1)
	del(typeA, "tok-x", t0.Add(time.Hour), 0)
	del(typeA, "tok-unknown", t0.Add(time.Hour), 0)
	for _, c := range []struct {
		p       applepass.Record
		devices []string
	}{{p1, []string{"dev-3"}}, {p2, nil}, {p3, []string{"dev-4"}}} {
		var got []string
		for _, r := range e.registrations(c.p) {
			got = append(got, r.DeviceID)
		}
		if diff := cmp.Diff(c.devices, got); diff != "" {
			t.Errorf("devices of %s %s (-want +got):\n%s", c.p.PassTypeID, c.p.Serial, diff)
		}
	}
}
