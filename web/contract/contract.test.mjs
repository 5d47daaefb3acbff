// Contract test of the generated TypeScript client (web/gen) against a real
// treued: every customer RPC and every till RPC, over each of the three
// protocols treued serves on one port (Connect, gRPC, gRPC-Web).
//
// Run with `npm run test:contract` (after `npm ci` and `buf generate`). It
// starts treued as web/testing/treued.mjs says (TREUE_TEST_TREUED names a
// binary to use instead of building one; TREUE_TEST_KEEP keeps its data).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";

import { equals } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  Http2SessionManager,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";

import { AccountService } from "../gen/treue/v1/account_service_pb.js";
import { AppService } from "../gen/treue/v1/app_service_pb.js";
import { ActivityKind, Locale } from "../gen/treue/v1/card_pb.js";
import {
  BarcodeFormat,
  CardService,
  CardUpdateCause,
} from "../gen/treue/v1/card_service_pb.js";
import {
  ChallengeService,
  ChallengeStatus,
} from "../gen/treue/v1/challenge_service_pb.js";
import { ConsentPurpose } from "../gen/treue/v1/consent_pb.js";
import { Platform } from "../gen/treue/v1/device_pb.js";
import {
  EarnResponseSchema,
  HoldStatus,
  PosService,
} from "../gen/treue/v1/pos_service_pb.js";
import { PrivacyService } from "../gen/treue/v1/privacy_service_pb.js";
import {
  RewardService,
  VoucherStatus,
} from "../gen/treue/v1/reward_service_pb.js";
import {
  ApplePassDelivery,
  WalletService,
} from "../gen/treue/v1/wallet_service_pb.js";
import { repo, startTreued } from "../testing/treued.mjs";

const run = `${process.pid}-${Date.now().toString(36)}`;

// The services a customer app calls and the one a till calls: the test
// fails unless every method of each is called over every transport.
const customerServices = [
  AccountService,
  AppService,
  CardService,
  ChallengeService,
  PrivacyService,
  RewardService,
  WalletService,
];
const tillServices = [PosService];

// ---------------------------------------------------------------------------
// treued

let server; // startTreued's { baseUrl, proc, log, dir, stop }

before(async () => {
  // The test makes a few hundred calls in seconds as one member and one
  // till; the per-caller rate limits are not what it checks.
  server = await startTreued("contract", ["-rate-customer", "inf", "-rate-till", "inf"]);
});

after(async () => {
  await server?.stop();
});

// ---------------------------------------------------------------------------
// Transports and clients

// The content type of each protocol's responses, unary and streaming: the
// test checks every successful call's, so each transport is known to speak
// its protocol.
const contentTypes = {
  connect: { unary: /^application\/json$/, stream: /^application\/connect\+json$/ },
  grpc: { unary: /^application\/grpc(\+proto)?$/, stream: /^application\/grpc(\+proto)?$/ },
  grpcweb: { unary: /^application\/grpc-web\+proto$/, stream: /^application\/grpc-web\+proto$/ },
};

const transports = {
  // Connect with JSON over HTTP/1.1; side-effect-free calls as HTTP GET.
  connect: (baseUrl, interceptors) =>
    createConnectTransport({
      baseUrl,
      httpVersion: "1.1",
      useBinaryFormat: false,
      useHttpGet: true,
      interceptors,
    }),
  // gRPC over HTTP/2 without TLS (h2c, prior knowledge), one connection.
  grpc: (baseUrl, interceptors, sessionManager) =>
    createGrpcTransport({ baseUrl, sessionManager, interceptors }),
  // gRPC-Web, binary, over HTTP/1.1.
  grpcweb: (baseUrl, interceptors) =>
    createGrpcWebTransport({
      baseUrl,
      httpVersion: "1.1",
      useBinaryFormat: true,
      interceptors,
    }),
};

// clientsFor returns a function that makes the clients of one identity
// (a bearer token, or none) over one transport, counting every call.
function clientsFor(kind, calls) {
  let sessionManager;
  const count = (next) => async (req) => {
    const key = `${req.service.typeName}/${req.method.name}`;
    calls.set(key, (calls.get(key) ?? 0) + 1);
    const res = await next(req);
    const want = contentTypes[kind][res.stream ? "stream" : "unary"];
    const got = res.header.get("content-type")?.split(";")[0] ?? "";
    assert.match(got, want, `${key}: the response's content type`);
    return res;
  };
  const as = (token) => {
    sessionManager ??=
      kind === "grpc" ? new Http2SessionManager(server.baseUrl) : undefined;
    const auth = (next) => async (req) => {
      if (token) req.header.set("Authorization", `Bearer ${token}`);
      return next(req);
    };
    const t = transports[kind](server.baseUrl, [count, auth], sessionManager);
    return {
      account: createClient(AccountService, t),
      app: createClient(AppService, t),
      card: createClient(CardService, t),
      challenge: createClient(ChallengeService, t),
      privacy: createClient(PrivacyService, t),
      reward: createClient(RewardService, t),
      wallet: createClient(WalletService, t),
      pos: createClient(PosService, t),
    };
  };
  as.close = () => sessionManager?.abort();
  return as;
}

// ---------------------------------------------------------------------------
// Helpers

async function rejectsWith(promise, code, what) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ConnectError, `${what}: want a ConnectError, got ${err}`);
    assert.equal(
      err.code,
      code,
      `${what}: want ${Code[code]}, got ${Code[err.code]}: ${err.rawMessage}`,
    );
    assert.ok(err.rawMessage.length > 0, `${what}: the error has no message`);
    return true;
  });
}

// luhn returns the check digit of a card number's first 15 digits.
function luhn(body) {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

// checkLedger reads the whole ledger a page at a time and checks that it
// adds up: each entry's balance_after is the one before plus its points,
// and the last is the card's balance.
async function checkLedger(c, balance) {
  const entries = [];
  let pageToken = "";
  do {
    const page = await c.card.listActivity({ pageSize: 3, pageToken });
    assert.ok(page.activities.length <= 3);
    entries.push(...page.activities);
    pageToken = page.nextPageToken;
  } while (pageToken);
  entries.reverse(); // oldest first
  let running = 0n;
  for (const e of entries) {
    running += e.points;
    assert.equal(e.balanceAfter, running, `ledger entry ${e.id} (${e.reason})`);
  }
  assert.equal(running, balance, "the ledger adds up to the balance");
  return entries;
}

// Read the demo program's welcome bonus and reward catalog from the seed, so
// the checks follow it.
const rules = JSON.parse(await readFile(path.join(repo, "assets/demo/rules.json"), "utf8"));
const seed = JSON.parse(await readFile(path.join(repo, "assets/demo/program.json"), "utf8"));
const welcome = BigInt(rules.welcome?.points ?? 0);
// pointsFor is the base points of a purchase (bonuses such as boosts, tier
// multipliers and challenges are ledger entries of their own).
const pointsFor = (amountMinor) =>
  (amountMinor / BigInt(seed.program.earn.per_minor)) * BigInt(seed.program.earn.points);
const cheapest = [...seed.rewards].filter((r) => r.active).sort((a, b) => a.cost - b.cost)[0];
const dearest = [...seed.rewards].filter((r) => r.active).sort((a, b) => b.cost - a.cost)[0];

// ---------------------------------------------------------------------------
// The contract, once per transport

for (const kind of Object.keys(transports)) {
  describe(`over ${kind}`, () => {
    const calls = new Map();
    const uid = `contract-${kind}-${run}`;
    let as, anon, me, till, other;
    let profile, card, purchase, voucher, goneVoucher;
    const key = (what) => `${kind}-${run}-${what}`;

    before(() => {
      as = clientsFor(kind, calls);
      anon = as(undefined);
      me = as(`dev:${uid}`);
      other = as(`dev:${uid}-gone`);
      till = as("demo-store-key");
    });
    after(() => as.close());

    it("refuses calls without credentials, and credentials of the wrong kind", async () => {
      await rejectsWith(anon.card.getCard({}), Code.Unauthenticated, "GetCard without a token");
      await rejectsWith(anon.account.enroll({}), Code.Unauthenticated, "Enroll without a token");
      await rejectsWith(
        anon.pos.lookupMember({ cardNumber: "9276000000000000" }),
        Code.Unauthenticated,
        "LookupMember without a key",
      );
      await rejectsWith(
        me.pos.earn({ cardNumber: "9276000000000000", amountMinor: 100n, currency: "EUR", idempotencyKey: key("x") }),
        Code.Unauthenticated,
        "Earn with a customer token",
      );
      await rejectsWith(till.card.getCard({}), Code.Unauthenticated, "GetCard with a till key");
    });

    it("AccountService: not enrolled yet, then Enroll (idempotent) and GetProfile", async () => {
      await rejectsWith(me.account.getProfile({}), Code.FailedPrecondition, "GetProfile before Enroll");
      await rejectsWith(me.card.getCard({}), Code.FailedPrecondition, "GetCard before Enroll");
      await rejectsWith(me.account.enroll({ referralCode: "NOPE" }), Code.InvalidArgument, "Enroll with a malformed referral code");

      const started = Date.now();
      const first = await me.account.enroll({ locale: Locale.EN });
      assert.equal(first.created, true);
      profile = first.profile;
      card = profile.card;
      assert.match(profile.memberId, /^\S+$/);
      assert.equal(profile.programId, seed.program.id);
      assert.equal(profile.locale, Locale.EN);
      assert.match(card.cardNumber, /^\d{16}$/);
      assert.equal(card.cardNumber.at(-1), luhn(card.cardNumber.slice(0, 15)), "Luhn check digit");
      assert.equal(card.barcodePayload, card.cardNumber);
      assert.equal(card.programName, seed.program.name);
      assert.equal(card.pointName, seed.program.point_name.en);
      assert.equal(card.balance, welcome, "the welcome bonus");
      assert.equal(card.availableBalance, welcome);
      const enrolled = timestampDate(profile.enrollTime).getTime();
      assert.ok(Math.abs(enrolled - started) < 60_000, "enroll_time is now");

      const again = await me.account.enroll({ locale: Locale.DE });
      assert.equal(again.created, false);
      assert.equal(again.profile.memberId, profile.memberId);
      assert.equal(again.profile.card.cardNumber, card.cardNumber);

      const got = await me.account.getProfile({});
      assert.equal(got.profile.memberId, profile.memberId);
      assert.equal(got.profile.locale, Locale.EN, "enrolling again changes nothing");
      assert.equal(got.profile.name, "");
    });

    it("AccountService: GetReferralCode", async () => {
      const a = await me.account.getReferralCode({ locale: Locale.EN });
      assert.match(a.code, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
      assert.ok(a.shareText.includes(a.code), a.shareText);
      const b = await me.account.getReferralCode({});
      assert.equal(b.code, a.code, "the code stays the same");
    });

    it("AccountService: RegisterDevice, ListDevices, UnregisterDevice", async () => {
      const token = `fcm-${key("device")}`;
      await rejectsWith(
        me.account.registerDevice({ device: { pushToken: token } }),
        Code.InvalidArgument,
        "RegisterDevice without a platform",
      );
      const reg = await me.account.registerDevice({
        device: { pushToken: token, platform: Platform.WEB, locale: Locale.EN, appVersion: "1.0.0", timeZone: "Europe/Berlin" },
      });
      assert.equal(reg.device.pushToken, token);
      assert.equal(reg.device.platform, Platform.WEB);
      assert.ok(reg.device.registerTime && reg.device.lastSeenTime);
      const list = await me.account.listDevices({});
      assert.deepEqual(list.devices.map((d) => d.pushToken), [token]);
      await me.account.unregisterDevice({ pushToken: token });
      await me.account.unregisterDevice({ pushToken: token }); // unknown: succeeds
      assert.equal((await me.account.listDevices({})).devices.length, 0);
      await rejectsWith(me.account.unregisterDevice({ pushToken: "" }), Code.InvalidArgument, "UnregisterDevice with an empty token");
    });

    it("AccountService: GetConsents, SetConsent, UpdateProfile", async () => {
      const before = await me.account.getConsents({});
      const state = (resp, p) => resp.consents.find((c) => c.purpose === p);
      assert.equal(state(before, ConsentPurpose.TRANSACTIONAL_PUSH)?.granted, true, "transactional push is granted by default");
      assert.equal(state(before, ConsentPurpose.PROFILE)?.granted, false);
      assert.equal(before.history.length, 0);

      await rejectsWith(
        me.account.updateProfile({ name: "Ada", updateMask: ["name"] }),
        Code.FailedPrecondition,
        "UpdateProfile without the profile consent",
      );
      await rejectsWith(
        me.account.setConsent({ purpose: ConsentPurpose.UNSPECIFIED, granted: true, textVersion: "v1" }),
        Code.InvalidArgument,
        "SetConsent without a purpose",
      );
      const set = await me.account.setConsent({
        purpose: ConsentPurpose.PROFILE,
        granted: true,
        textVersion: "profile-2026-11",
        source: "web",
      });
      assert.equal(set.consent.granted, true);
      assert.equal(set.consent.latest.textVersion, "profile-2026-11");
      assert.equal(set.consent.latest.source, "web");

      await rejectsWith(
        me.account.updateProfile({ updateMask: ["shoe_size"] }),
        Code.InvalidArgument,
        "UpdateProfile with an unknown field",
      );
      const upd = await me.account.updateProfile({
        name: "Ada Lovelace",
        email: "ada@example.com",
        updateMask: ["name", "email"],
      });
      assert.equal(upd.profile.name, "Ada Lovelace");
      assert.equal(upd.profile.email, "ada@example.com");
      await rejectsWith(
        me.account.updateProfile({ birthday: { month: 12, day: 10 }, updateMask: ["birthday"] }),
        Code.FailedPrecondition,
        "a birthday without the birthday consent",
      );

      const now = await me.account.getConsents({});
      assert.equal(state(now, ConsentPurpose.PROFILE)?.granted, true);
      assert.equal(now.history.length, 1);
      assert.equal((await me.account.getProfile({})).profile.email, "ada@example.com");
    });

    it("PosService: LookupMember finds the card, refuses bad numbers", async () => {
      const spaced = card.cardNumber.replace(/(\d{4})(?=\d)/g, "$1 ");
      const found = await till.pos.lookupMember({ cardNumber: spaced });
      assert.equal(found.member.card.cardNumber, card.cardNumber);
      assert.equal(found.member.card.balance, card.balance);
      assert.equal(found.member.locale, Locale.EN);

      const wrongCheck = card.cardNumber.slice(0, 15) + String((Number(card.cardNumber[15]) + 1) % 10);
      await rejectsWith(till.pos.lookupMember({ cardNumber: wrongCheck }), Code.InvalidArgument, "a wrong check digit");
      await rejectsWith(till.pos.lookupMember({ cardNumber: "1234" }), Code.InvalidArgument, "a short card number");
      const body = "9276" + String(Date.now()).slice(-11);
      await rejectsWith(till.pos.lookupMember({ cardNumber: body + luhn(body) }), Code.NotFound, "an unknown card");
    });

    it("CardService: WatchCard streams the card and a purchase posted at the till", async () => {
      const ac = new AbortController();
      const stream = me.card.watchCard({ locale: Locale.EN }, { signal: ac.signal })[Symbol.asyncIterator]();
      const timer = setTimeout(() => ac.abort(new Error("WatchCard: no update within 20 s")), 20_000);
      try {
        const next = async () => {
          for (;;) {
            const r = await stream.next();
            assert.equal(r.done, false, "the stream ended");
            if (r.value.event.case === "update") return r.value.event.value;
          }
        };
        const initial = await next();
        assert.equal(initial.cause, CardUpdateCause.INITIAL);
        assert.equal(initial.card.cardNumber, card.cardNumber);
        assert.equal(initial.card.balance, card.balance);
        assert.ok(initial.tierProgress?.tier?.id);

        const req = {
          cardNumber: card.cardNumber,
          amountMinor: 6490n,
          currency: "EUR",
          idempotencyKey: key("earn-1"),
          receiptId: key("r1"),
          lineItems: [{ sku: "4711", name: "Cappuccino", category: "coffee", quantity: 2, amountMinor: 890n }],
        };
        purchase = await till.pos.earn(req);
        assert.equal(purchase.pointsEarned, pointsFor(req.amountMinor), "the base points of 64.90 EUR");
        assert.ok(purchase.balance >= card.balance + purchase.pointsEarned, "the balance grew by the points and any bonus");
        assert.ok(purchase.purchaseId && purchase.activityId);

        // Updates arrive until the card shows the purchase's balance.
        const seen = [];
        let update;
        do {
          update = await next();
          assert.equal(update.cause, CardUpdateCause.CHANGE);
          assert.ok(update.card.version > initial.card.version);
          seen.push(...update.activities);
        } while (update.card.balance !== purchase.balance);
        const earnEntry = seen.find((a) => a.id === purchase.activityId);
        assert.ok(earnEntry, "the update carries the purchase's ledger entry");
        assert.equal(earnEntry.kind, ActivityKind.EARN);
        assert.equal(earnEntry.points, purchase.pointsEarned);
        assert.equal(earnEntry.receiptId, req.receiptId);
        // The purchase's entry and the bonuses it triggered add up.
        const sum = seen.reduce((s, a) => s + a.points, 0n);
        assert.equal(card.balance + sum, purchase.balance);
        card = update.card;

        // The till retries: the same answer, nothing booked twice.
        const retry = await till.pos.earn(req);
        assert.ok(equals(EarnResponseSchema, retry, purchase), "a retry returns the first response");
        await rejectsWith(till.pos.earn({ ...req, amountMinor: 100n }), Code.AlreadyExists, "the key with another amount");
      } finally {
        clearTimeout(timer);
        ac.abort();
        await stream.return?.().catch(() => {});
      }
      await rejectsWith(
        till.pos.earn({ cardNumber: card.cardNumber, amountMinor: 100n, currency: "USD", idempotencyKey: key("usd") }),
        Code.InvalidArgument,
        "a foreign currency",
      );
      await rejectsWith(
        till.pos.earn({ cardNumber: "42", amountMinor: 100n, currency: "EUR", idempotencyKey: key("bad-card") }),
        Code.InvalidArgument,
        "a bad card number",
      );
      await rejectsWith(
        till.pos.earn({ cardNumber: card.cardNumber, amountMinor: 0n, currency: "EUR", idempotencyKey: key("zero") }),
        Code.InvalidArgument,
        "a zero amount",
      );
      await rejectsWith(me.card.watchCard({ sinceVersion: -1n })[Symbol.asyncIterator]().next(), Code.InvalidArgument, "a negative since_version");
    });

    it("CardService: GetCard, ListActivity and GetCardBarcode", async () => {
      const got = await me.card.getCard({ minVersion: card.version });
      assert.equal(got.card.balance, purchase.balance);
      assert.equal(got.card.version, card.version);
      const entries = await checkLedger(me, got.card.balance);
      assert.equal(entries[0].kind, ActivityKind.BONUS, "the welcome bonus comes first");
      await rejectsWith(me.card.listActivity({ pageSize: 101 }), Code.InvalidArgument, "a page of 101");
      await rejectsWith(me.card.listActivity({ pageToken: "garbage!" }), Code.InvalidArgument, "a malformed page token");

      const bc = await me.card.getCardBarcode({ format: BarcodeFormat.CODE128, widthPx: 600 });
      assert.deepEqual([...bc.png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "a PNG");
      assert.equal(bc.payload, card.barcodePayload);
      assert.equal(bc.format, BarcodeFormat.CODE128);
      assert.equal(bc.widthPx, 600);
      assert.equal(bc.heightPx, 200);
      const qr = await me.card.getCardBarcode({});
      assert.equal(qr.format, BarcodeFormat.QR);
      assert.equal(qr.widthPx, qr.heightPx);
      await rejectsWith(me.card.getCardBarcode({ widthPx: 10 }), Code.InvalidArgument, "a width of 10 px");
    });

    it("AppService: GetHome, and not_modified for the same version", async () => {
      const home = await me.app.getHome({ locale: Locale.EN });
      assert.deepEqual(home.errors, [], "no part failed");
      assert.equal(home.notModified, false);
      assert.ok(home.version);
      assert.equal(home.card.balance, card.balance);
      assert.ok(home.tierProgress.tier.id);
      assert.ok(home.featuredRewards.length > 0 && home.featuredRewards.length <= 3);
      assert.ok(home.recentActivity.length > 0 && home.recentActivity.length <= 5);
      assert.equal(home.recentActivity[0].balanceAfter, card.balance);

      const same = await me.app.getHome({ locale: Locale.EN, ifNoneMatch: home.version });
      assert.equal(same.notModified, true);
      assert.equal(same.version, home.version);
      assert.equal(same.card, undefined);
      const german = await me.app.getHome({ locale: Locale.DE, ifNoneMatch: home.version });
      assert.equal(german.notModified, false, "another language is another version");
      await rejectsWith(me.app.getHome({ ifNoneMatch: "x".repeat(65) }), Code.InvalidArgument, "an over-long if_none_match");
    });

    it("ChallengeService: ListChallenges, GetChallenge, ActivateChallenge", async () => {
      const list = await me.challenge.listChallenges({ locale: Locale.EN });
      assert.ok(list.challenges.length > 0);
      const optIn = list.challenges.find((c) => c.optIn && c.status === ChallengeStatus.AVAILABLE);
      const everyone = list.challenges.find((c) => !c.optIn);
      assert.ok(optIn, "an opt-in challenge to join");
      assert.ok(everyone, "a challenge that needs no joining");

      const one = await me.challenge.getChallenge({ challengeId: optIn.id, locale: Locale.EN });
      assert.equal(one.challenge.id, optIn.id);
      assert.equal(one.challenge.title, optIn.title);
      assert.equal(one.challenge.status, ChallengeStatus.AVAILABLE);

      const joined = await me.challenge.activateChallenge({ challengeId: optIn.id });
      assert.equal(joined.challenge.status, ChallengeStatus.ACTIVE);
      const again = await me.challenge.activateChallenge({ challengeId: optIn.id });
      assert.equal(again.challenge.status, ChallengeStatus.ACTIVE, "activating twice is harmless");
      assert.equal(
        (await me.challenge.getChallenge({ challengeId: optIn.id })).challenge.status,
        ChallengeStatus.ACTIVE,
      );

      await rejectsWith(me.challenge.activateChallenge({ challengeId: everyone.id }), Code.FailedPrecondition, "activating a challenge without opt-in");
      await rejectsWith(me.challenge.getChallenge({ challengeId: "no-such-challenge" }), Code.NotFound, "an unknown challenge");
      await rejectsWith(me.challenge.getChallenge({ challengeId: "" }), Code.InvalidArgument, "an empty challenge id");
      await rejectsWith(me.challenge.activateChallenge({ challengeId: "x".repeat(65) }), Code.InvalidArgument, "an over-long challenge id");
    });

    it("RewardService and PosService.RedeemVoucher: a voucher redeems once", async () => {
      const catalog = await me.reward.listRewards({ locale: Locale.EN });
      assert.ok(catalog.rewards.length > 0);
      const costs = catalog.rewards.map((r) => r.cost);
      assert.deepEqual(costs, [...costs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), "cheapest first");
      const reward = catalog.rewards.find((r) => r.id === cheapest.id);
      assert.equal(reward.cost, BigInt(cheapest.cost));
      assert.equal(reward.name, cheapest.name.en);
      assert.ok(card.balance >= reward.cost && card.balance < BigInt(dearest.cost), `balance ${card.balance}`);

      const req = { rewardId: reward.id, idempotencyKey: key("redeem-1"), locale: Locale.EN };
      const bought = await me.reward.redeemReward(req);
      voucher = bought.voucher;
      assert.equal(bought.balance, card.balance - reward.cost);
      assert.equal(voucher.status, VoucherStatus.ISSUED);
      assert.equal(voucher.rewardId, reward.id);
      assert.equal(voucher.cost, reward.cost);
      assert.match(voucher.code, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
      assert.ok(timestampDate(voucher.expireTime) > timestampDate(voucher.issueTime));
      const replay = await me.reward.redeemReward(req);
      assert.equal(replay.voucher.code, voucher.code, "a replay returns the same voucher");
      assert.equal(replay.balance, bought.balance, "and spends nothing more");
      await rejectsWith(me.reward.redeemReward({ ...req, rewardId: dearest.id }), Code.AlreadyExists, "the key for another reward");
      await rejectsWith(me.reward.redeemReward({ rewardId: dearest.id, idempotencyKey: key("redeem-2") }), Code.FailedPrecondition, "too few points");
      await rejectsWith(me.reward.redeemReward({ rewardId: "no-such-reward", idempotencyKey: key("redeem-3") }), Code.NotFound, "an unknown reward");
      await rejectsWith(me.reward.redeemReward({ rewardId: reward.id, idempotencyKey: "" }), Code.InvalidArgument, "no idempotency key");
      card = (await me.card.getCard({})).card;
      assert.equal(card.balance, bought.balance);

      const listed = await me.reward.listVouchers({});
      assert.equal(listed.vouchers[0].code, voucher.code);
      assert.equal(listed.vouchers[0].status, VoucherStatus.ISSUED);

      // The till takes it once; case and dashes do not matter.
      const typed = voucher.code.replace("-", "").toLowerCase();
      const used = await till.pos.redeemVoucher({ code: typed, idempotencyKey: key("voucher-1") });
      assert.equal(used.voucher.code, voucher.code);
      assert.equal(used.voucher.status, VoucherStatus.REDEEMED);
      assert.ok(used.voucher.redeemTime);
      const retried = await till.pos.redeemVoucher({ code: voucher.code, idempotencyKey: key("voucher-1") });
      assert.equal(retried.voucher.status, VoucherStatus.REDEEMED, "a retry of the same redemption succeeds");
      await rejectsWith(
        till.pos.redeemVoucher({ code: voucher.code, idempotencyKey: key("voucher-2") }),
        Code.FailedPrecondition,
        "a second redemption",
      );
      await rejectsWith(till.pos.redeemVoucher({ code: "ZZZZ-ZZZZ", idempotencyKey: key("voucher-3") }), Code.NotFound, "an unknown voucher");
      await rejectsWith(till.pos.redeemVoucher({ code: "!", idempotencyKey: key("voucher-4") }), Code.InvalidArgument, "a malformed voucher code");
      const after = await me.reward.listVouchers({});
      assert.equal(after.vouchers[0].status, VoucherStatus.REDEEMED);
      assert.equal((await me.card.getCard({})).card.balance, card.balance, "redeeming a voucher costs no points");
    });

    it("PosService: Reverse takes back points in proportion, as far as they are left", async () => {
      const req = { purchase: { case: "receiptId", value: key("r1") }, amountMinor: 3245n, idempotencyKey: key("return-1") };
      const ret = await till.pos.reverse(req);
      const due = ret.pointsReversed + ret.pointsUnrecovered;
      assert.equal(due, purchase.pointsEarned / 2n, "half the amount, half the points");
      assert.equal(ret.balance, card.balance - ret.pointsReversed);
      assert.equal(ret.returnedAmountMinor, 3245n);
      const again = await till.pos.reverse(req);
      assert.equal(again.balance, ret.balance, "a retry books nothing twice");
      await rejectsWith(
        till.pos.reverse({ purchase: { case: "purchaseId", value: purchase.purchaseId }, amountMinor: 3246n, idempotencyKey: key("return-2") }),
        Code.FailedPrecondition,
        "returning more than is left",
      );
      await rejectsWith(
        till.pos.reverse({ purchase: { case: "purchaseId", value: "pur_nosuchpurchase" }, idempotencyKey: key("return-3") }),
        Code.NotFound,
        "an unknown purchase",
      );
      const rest = await till.pos.reverse({
        purchase: { case: "purchaseId", value: purchase.purchaseId },
        idempotencyKey: key("return-4"),
      });
      assert.equal(rest.returnedAmountMinor, 6490n, "0 returns what is left");
      assert.equal(rest.pointsReversed + rest.pointsUnrecovered + due, purchase.pointsEarned, "all of its points, no more");
      card = (await me.card.getCard({})).card;
      assert.equal(card.balance, rest.balance);
      await checkLedger(me, card.balance);
    });

    it("PosService: Hold, Capture, Release (pay with points)", async () => {
      // Points to spend: a purchase of 50 EUR.
      const topUp = await till.pos.earn({ cardNumber: card.cardNumber, amountMinor: 5000n, currency: "EUR", idempotencyKey: key("earn-2") });
      const available = (await me.card.getCard({})).card.availableBalance;
      assert.equal(available, topUp.balance);

      const hold = await till.pos.hold({ cardNumber: card.cardNumber, points: 30n, ttlSeconds: 120, idempotencyKey: key("hold-1") });
      assert.equal(hold.hold.status, HoldStatus.ACTIVE);
      assert.equal(hold.hold.points, 30n);
      assert.equal(hold.availableBalance, available - 30n);
      const held = (await me.card.getCard({})).card;
      assert.equal(held.availableBalance, available - 30n, "held points are not available");
      assert.equal(held.balance, topUp.balance, "but still in the balance");
      await rejectsWith(
        till.pos.hold({ cardNumber: card.cardNumber, points: available, idempotencyKey: key("hold-2") }),
        Code.FailedPrecondition,
        "a hold over the available points",
      );
      await rejectsWith(
        till.pos.hold({ cardNumber: card.cardNumber, points: 0n, idempotencyKey: key("hold-3") }),
        Code.InvalidArgument,
        "a hold of 0 points",
      );

      const cap = await till.pos.capture({ holdId: hold.hold.id, points: 12n, idempotencyKey: key("capture-1") });
      assert.equal(cap.pointsSpent, 12n);
      assert.equal(cap.balance, topUp.balance - 12n);
      assert.equal(cap.hold.status, HoldStatus.CAPTURED);
      assert.equal(cap.hold.capturedPoints, 12n);
      assert.ok(cap.activityId);
      await rejectsWith(till.pos.capture({ holdId: hold.hold.id, idempotencyKey: key("capture-2") }), Code.FailedPrecondition, "capturing twice");
      await rejectsWith(till.pos.release({ holdId: hold.hold.id, idempotencyKey: key("release-0") }), Code.FailedPrecondition, "releasing a captured hold");
      await rejectsWith(till.pos.capture({ holdId: "hold_nosuchhold", idempotencyKey: key("capture-3") }), Code.NotFound, "an unknown hold");

      const hold2 = await till.pos.hold({ cardNumber: card.cardNumber, points: 5n, idempotencyKey: key("hold-4") });
      const rel = await till.pos.release({ holdId: hold2.hold.id, idempotencyKey: key("release-1") });
      assert.equal(rel.hold.status, HoldStatus.RELEASED);
      await rejectsWith(till.pos.release({ holdId: hold2.hold.id, idempotencyKey: key("release-2") }), Code.FailedPrecondition, "releasing twice");

      card = (await me.card.getCard({})).card;
      assert.equal(card.balance, cap.balance);
      assert.equal(card.availableBalance, card.balance, "nothing is held any more");
      const entries = await checkLedger(me, card.balance);
      assert.equal(entries.at(-1).kind, ActivityKind.CAPTURE);
      assert.equal(entries.at(-1).points, -12n);
    });

    it("WalletService: GetApplePass (file and link), GetGoogleWalletLink", async () => {
      const file = await me.wallet.getApplePass({});
      assert.deepEqual([...file.pkpass.subarray(0, 4)], [0x50, 0x4b, 0x03, 0x04], "a .pkpass is a zip file");
      assert.equal(file.contentType, "application/vnd.apple.pkpass");
      assert.equal(file.balance, card.balance);
      assert.equal(file.development, true, "dev mode signs with development certificates");
      assert.ok(file.passTypeIdentifier && file.serialNumber);
      assert.equal(file.downloadUrl, "");

      const link = await me.wallet.getApplePass({ delivery: ApplePassDelivery.LINK });
      assert.equal(link.pkpass.length, 0);
      assert.equal(link.serialNumber, file.serialNumber, "the same pass");
      assert.ok(timestampDate(link.downloadUrlExpireTime) > new Date());
      const res = await fetch(link.downloadUrl);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/vnd.apple.pkpass");
      assert.deepEqual([...new Uint8Array(await res.arrayBuffer()).subarray(0, 4)], [0x50, 0x4b, 0x03, 0x04]);

      const google = await me.wallet.getGoogleWalletLink({});
      assert.match(google.saveUrl, /^https:\/\/pay\.google\.com\/gp\/v\/save\/[\w-]+\.[\w-]+\.[\w-]+$/);
      assert.ok(google.objectId.includes("."));
      assert.equal(google.development, true);
      assert.equal((await me.wallet.getGoogleWalletLink({})).objectId, google.objectId, "the same object");
    });

    it("PrivacyService: ExportMyData streams the whole document", async () => {
      const chunks = [];
      let meta;
      for await (const msg of me.privacy.exportMyData({})) {
        if (!meta) meta = msg;
        else assert.equal(msg.fileName, "", "only the first message names the file");
        chunks.push(msg.chunk);
      }
      assert.match(meta.fileName, /^treue-export-.*\.json$/);
      assert.equal(meta.contentType, "application/json");
      const bytes = Buffer.concat(chunks);
      assert.equal(BigInt(bytes.length), meta.totalBytes);
      const doc = JSON.parse(bytes.toString("utf8"));
      assert.equal(doc.format, "treue-export/1");
      assert.equal(doc.profile.member_id, profile.memberId);
      assert.equal(doc.profile.card_number, card.cardNumber);
      assert.equal(doc.profile.sign_in_id, uid);
      assert.equal(doc.profile.name, "Ada Lovelace");
      assert.equal(doc.profile.email, "ada@example.com");
      assert.equal(BigInt(doc.account.balance), card.balance);
      const entries = await checkLedger(me, card.balance);
      assert.equal(doc.ledger.length, entries.length, "the export has the whole ledger");
      assert.ok(doc.vouchers.some((v) => v.code === voucher.code));
    });

    it("PrivacyService: DeleteMyAccount erases a throw-away member", async () => {
      const gone = other;
      const { profile: p } = await gone.account.enroll({});
      const earned = await till.pos.earn({ cardNumber: p.card.cardNumber, amountMinor: 3000n, currency: "EUR", idempotencyKey: key("gone-earn") });
      const v = await gone.reward.redeemReward({ rewardId: cheapest.id, idempotencyKey: key("gone-redeem") });
      await till.pos.hold({ cardNumber: p.card.cardNumber, points: 1n, idempotencyKey: key("gone-hold") });
      await gone.account.registerDevice({ device: { pushToken: `fcm-${key("gone")}`, platform: Platform.ANDROID } });
      const balance = (await gone.card.getCard({})).card.balance;
      assert.equal(balance, earned.balance - BigInt(cheapest.cost));

      const { erasure } = await gone.privacy.deleteMyAccount({});
      assert.equal(erasure.memberId, p.memberId);
      assert.equal(erasure.vouchersVoided, 1);
      assert.equal(erasure.holdsReleased, 1);
      assert.equal(erasure.devicesRemoved, 1);
      assert.equal(erasure.balanceKept, balance);
      assert.ok(timestampDate(erasure.eraseTime) <= new Date(Date.now() + 60_000));

      await rejectsWith(gone.account.getProfile({}), Code.FailedPrecondition, "GetProfile after erasure");
      await rejectsWith(gone.privacy.deleteMyAccount({}), Code.FailedPrecondition, "erasing twice");
      await rejectsWith(till.pos.lookupMember({ cardNumber: p.card.cardNumber }), Code.NotFound, "the erased card at the till");
      goneVoucher = v.voucher.code;
      // The main member is untouched.
      assert.equal((await me.card.getCard({})).card.balance, card.balance);
    });

    it("PosService: a voucher voided by DeleteMyAccount is refused at the till", async () => {
      assert.ok(goneVoucher, "the erasure test ran");
      await rejectsWith(
        till.pos.redeemVoucher({ code: goneVoucher, idempotencyKey: key("gone-voucher") }),
        Code.FailedPrecondition,
        "the voided voucher at the till",
      );
    });

    it("calls every customer and till RPC", () => {
      const want = [...customerServices, ...tillServices].flatMap((s) =>
        s.methods.map((m) => `${s.typeName}/${m.name}`),
      );
      const missing = want.filter((m) => !calls.has(m));
      assert.deepEqual(missing, [], "RPCs not called");
      const total = [...calls.values()].reduce((a, b) => a + b, 0);
      console.log(`${kind}: ${want.length} of ${want.length} RPCs called, ${total} calls`);
    });
  });
}
