// The customer app: sign in, the member card with its barcode and a balance
// that changes live (CardService.WatchCard), tier progress, activity,
// rewards and vouchers, challenges, wallet passes and the privacy controls.

import { Code, ConnectError } from "@connectrpc/connect";

import { ApplePassDelivery } from "../gen/treue/v1/wallet_service_pb.js";
import { type Activity, type Card, Locale } from "../gen/treue/v1/card_pb.js";
import { BarcodeFormat, CardUpdateCause, type CardUpdate } from "../gen/treue/v1/card_service_pb.js";
import { type Challenge, ChallengeStatus } from "../gen/treue/v1/challenge_service_pb.js";
import { ConsentPurpose, type ConsentState } from "../gen/treue/v1/consent_pb.js";
import type { ChallengeProgress, StampCardProgress, TierProgress } from "../gen/treue/v1/home_pb.js";
import { type Reward, type Voucher, VoucherStatus } from "../gen/treue/v1/reward_service_pb.js";

import { type CustomerClients, customerClients, loadConfig, newKey, type WebConfig } from "./api.js";
import { code128Svg } from "./code128.js";
import { busy, byId, h, replace } from "./dom.js";
import * as fmt from "./format.js";
import { currentLang, errorText, type Lang, setLang, t } from "./i18n.js";
import { firebaseSignIn, loadSession, saveSession, type Session, SignInError, tokenOf, validDevUID } from "./session.js";

/** The consent text version the web app shows; recorded with each choice. */
const consentTextVersion = "web-2026-12";
const activityPageSize = 20;
const tabs = ["card", "rewards", "challenges", "activity", "me"] as const;
type Tab = (typeof tabs)[number];

const state = {
  lang: currentLang() as Lang,
  cfg: undefined as WebConfig | undefined,
  session: undefined as Session | undefined,
  api: undefined as CustomerClients | undefined,
  card: undefined as Card | undefined,
  tier: undefined as TierProgress | undefined,
  homeChallenges: [] as ChallengeProgress[],
  stamps: [] as StampCardProgress[],
  challenges: [] as Challenge[],
  activity: [] as Activity[],
  nextPage: "",
  rewards: [] as Reward[],
  vouchers: [] as Voucher[],
  consents: [] as ConsentState[],
  barcodes: new Map<string, string>(), // format:card number → object URL
  barcodeFormat: BarcodeFormat.QR,
  watch: undefined as AbortController | undefined,
  cardRendered: false,
};

const tx = (key: Parameters<typeof t>[1], ...args: (string | number | bigint)[]) => t(state.lang, key, ...args);
const locale = () => (state.lang === "de" ? Locale.DE : Locale.EN);
const api = (): CustomerClients => {
  if (!state.api) throw new ConnectError("not signed in", Code.Unauthenticated);
  return state.api;
};

// ---------------------------------------------------------------------------
// Messages and network state

let toastTimer: ReturnType<typeof setTimeout> | undefined;

/** say shows a short message; alerts stay until the next one. */
function say(text: string, kind: "info" | "error" = "info"): void {
  const el = byId("banner");
  el.textContent = text;
  el.className = `banner ${kind}`;
  el.hidden = false;
  el.setAttribute("role", kind === "error" ? "alert" : "status");
  clearTimeout(toastTimer);
  if (kind === "info") toastTimer = setTimeout(() => (el.hidden = true), 6000);
}

/** fail shows err, signing out when the server no longer accepts the sign-in. */
function fail(err: unknown): void {
  const ce = ConnectError.from(err);
  if (ce.code === Code.Canceled) return;
  console.warn(ce);
  say(errorText(state.lang, ce), "error");
  if (ce.code === Code.Unauthenticated) signOut();
}

function setNet(s: "live" | "offline" | "reconnecting" | "idle"): void {
  const el = byId("net");
  el.dataset.state = s;
  el.textContent =
    s === "live" ? `● ${tx("card.live")}` : s === "offline" ? tx("net.offline") : s === "reconnecting" ? tx("net.reconnecting") : "";
}

// ---------------------------------------------------------------------------
// Sign-in

function renderSignIn(): void {
  const cfg = state.cfg;
  const forms: Node[] = [];
  if (cfg?.dev) {
    const uid = h("input", { id: "uid", name: "uid", autocomplete: "username", required: true, maxlength: 128 });
    forms.push(
      h(
        "form",
        {
          id: "dev-signin",
          class: "panel",
          onsubmit: (e: Event) => {
            e.preventDefault();
            if (!validDevUID(uid.value)) return say(tx("signin.badUid"), "error");
            void signIn({ kind: "dev", uid: uid.value });
          },
        },
        h("p", {}, tx("signin.dev")),
        h("label", { for: "uid" }, tx("signin.uid")),
        uid,
        h("button", { type: "submit", class: "primary" }, tx("signin.submit")),
      ),
    );
  }
  if (cfg?.firebase) {
    const email = h("input", { id: "email", type: "email", autocomplete: "email", required: true });
    const password = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true, minlength: 6 });
    const submit = (create: boolean) => async (e: Event) => {
      e.preventDefault();
      const form = byId<HTMLFormElement>("firebase-signin");
      if (!form.reportValidity()) return;
      try {
        await signIn(await firebaseSignIn(cfg, email.value, password.value, create));
      } catch (err) {
        if (err instanceof SignInError) say(`${tx("signin.title")}: ${err.code}`, "error");
        else fail(err);
      }
    };
    forms.push(
      h(
        "form",
        { id: "firebase-signin", class: "panel", onsubmit: submit(false) },
        h("p", {}, tx("signin.firebase")),
        h("label", { for: "email" }, tx("signin.email")),
        email,
        h("label", { for: "password" }, tx("signin.password")),
        password,
        h("button", { type: "submit", class: "primary" }, tx("signin.submit")),
        h("button", { type: "button", onclick: submit(true) }, tx("signin.create")),
      ),
    );
  }
  if (forms.length === 0) forms.push(h("p", { class: "panel" }, tx("signin.none")));
  byId("tabs").hidden = true;
  replace(byId("view"), h("section", { id: "signin" }, h("h2", {}, tx("signin.title")), forms));
}

async function signIn(s: Session): Promise<void> {
  const cfg = state.cfg!;
  state.session = s;
  saveSession(s);
  state.api = customerClients(() => tokenOf(s, cfg));
  try {
    const res = await api().account.enroll({ locale: locale() });
    if (res.profile?.card) state.card = res.profile.card;
  } catch (err) {
    fail(err);
    return;
  }
  byId("banner").hidden = true;
  renderShell();
  await loadHome();
  startWatch();
  void Promise.all([loadChallenges(), loadRewards(), loadVouchers(), loadActivity(true), loadConsents()]);
}

function signOut(): void {
  state.watch?.abort();
  state.watch = undefined;
  saveSession(undefined);
  state.session = undefined;
  state.api = undefined;
  state.card = undefined;
  state.cardRendered = false;
  for (const url of state.barcodes.values()) URL.revokeObjectURL(url);
  state.barcodes.clear();
  setNet("idle");
  // The next customer starts on the card.
  history.replaceState(null, "", location.pathname);
  renderSignIn();
}

// ---------------------------------------------------------------------------
// The shell: tabs and their sections

function renderShell(): void {
  const nav = byId("tabs");
  replace(
    nav,
    tabs.map((tab) => h("a", { href: `#${tab}`, id: `tab-${tab}`, "data-tab": tab }, tx(`tab.${tab}`))),
  );
  nav.hidden = false;
  replace(
    byId("view"),
    tabs.map((tab) => h("section", { id: `view-${tab}`, "aria-labelledby": `tab-${tab}`, hidden: true })),
  );
  renderCardTab();
  renderRewards();
  renderChallenges();
  renderActivity();
  renderMe();
  showTab();
}

function currentTab(): Tab {
  const tab = location.hash.slice(1) as Tab;
  return tabs.includes(tab) ? tab : "card";
}

function showTab(): void {
  const current = currentTab();
  for (const tab of tabs) {
    const section = document.getElementById(`view-${tab}`);
    if (section) section.hidden = tab !== current;
    document.getElementById(`tab-${tab}`)?.setAttribute("aria-current", tab === current ? "page" : "false");
  }
  if (current === "rewards" && state.api) void loadVouchers();
}

// ---------------------------------------------------------------------------
// Card tab

function renderCardTab(): void {
  const section = document.getElementById("view-card");
  if (!section) return;
  const c = state.card;
  if (!c) {
    replace(section, h("div", { class: "card skeleton", "aria-busy": "true" }));
    return;
  }
  byId("program").textContent = c.programName || tx("app.title");
  const tier = state.tier;
  const progress =
    tier?.nextTier && tier.nextTierPoints > 0n
      ? h(
          "div",
          { class: "tier-progress" },
          h("progress", { max: Number(tier.nextTierPoints), value: Number(tier.qualifyingPoints), "aria-label": tier.progressText }),
          h("p", { id: "tier-text" }, tier.progressText),
        )
      : h("p", { id: "tier-text" }, tx("card.top"));
  const expiry = c.nextExpiry
    ? tx("card.expiry", fmt.points(c.nextExpiry.points, state.lang), fmt.date(c.nextExpiry.expireTime, state.lang))
    : tx("card.noExpiry");
  replace(
    section,
    h(
      "article",
      { class: "card", id: "card", "data-version": String(c.version) },
      h("p", { class: "card-program" }, c.programName),
      h("p", { class: "card-label" }, tx("card.balance")),
      h(
        "p",
        { class: "balance" },
        h("span", { id: "balance", "aria-live": "polite" }, fmt.points(c.balance, state.lang)),
        " ",
        h("span", { class: "point-name" }, c.pointName),
      ),
      h("p", { id: "available" }, tx("card.available", fmt.points(c.availableBalance, state.lang))),
      c.pendingPoints > 0n && h("p", {}, tx("card.pending", fmt.points(c.pendingPoints, state.lang))),
      h("p", { id: "expiry" }, expiry),
      h("p", { class: "tier" }, `${tx("card.tier")}: `, h("strong", { id: "tier" }, c.tier?.name ?? "")),
      progress,
    ),
    h(
      "div",
      { class: "panel barcode-panel" },
      h(
        "div",
        { class: "segmented", role: "group", "aria-label": tx("card.barcode") },
        barcodeButton(BarcodeFormat.QR, tx("card.qr")),
        barcodeButton(BarcodeFormat.CODE128, tx("card.linear")),
      ),
      h("img", { id: "card-barcode", alt: `${tx("card.barcode")}: ${c.barcodePayload}`, class: `barcode fmt-${state.barcodeFormat}` }),
      h("p", { class: "card-number" }, h("span", { class: "muted" }, tx("card.number")), h("span", { id: "card-number" }, fmt.cardNumber(c.cardNumber))),
    ),
    h(
      "div",
      { class: "panel wallets" },
      h("button", { id: "apple-wallet", class: "wallet apple", onclick: addToAppleWallet }, tx("wallet.apple")),
      h("button", { id: "google-wallet", class: "wallet google", onclick: saveToGoogleWallet }, tx("wallet.google")),
    ),
    h("h2", {}, tx("home.challenges")),
    h(
      "ul",
      { id: "home-challenges", class: "list" },
      cardChallenges().map((p) => h("li", { "data-challenge": p.challengeId }, progressView(p.title, p.current, p.target, p.progressText, p.completed))),
    ),
    state.stamps.length > 0 && h("h2", {}, tx("home.stamps")),
    h(
      "ul",
      { class: "list", id: "stamp-cards" },
      state.stamps.map((s) => h("li", {}, progressView(s.name, s.current, s.target, s.progressText, false))),
    ),
    h("h2", {}, tx("home.recent")),
    h("ul", { class: "list activity", id: "recent" }, state.activity.slice(0, 5).map(activityItem)),
  );
  void showBarcode();
  if (!state.cardRendered) {
    state.cardRendered = true;
    // The browser test reads this mark: the time to the first card on screen.
    performance.mark("treue:card-rendered");
  }
}

/**
 * cardChallenges returns the challenges the card tab shows: the member's
 * active and completed ones from ChallengeService (GetHome lists only those
 * a purchase counted towards, so a new member's automatic challenges would
 * be missing), else GetHome's.
 */
function cardChallenges(): ChallengeProgress[] {
  if (state.challenges.length === 0) return state.homeChallenges;
  return state.challenges
    .filter((c) => c.progress && (c.status === ChallengeStatus.ACTIVE || c.status === ChallengeStatus.COMPLETED))
    .map((c) => ({ ...c.progress!, challengeId: c.id, title: c.title }));
}

function barcodeButton(f: BarcodeFormat, label: string): HTMLButtonElement {
  return h(
    "button",
    {
      type: "button",
      "aria-pressed": state.barcodeFormat === f ? "true" : "false",
      onclick: () => {
        state.barcodeFormat = f;
        renderCardTab();
      },
    },
    label,
  );
}

/** showBarcode fills the card's barcode image, fetching the PNG once per card and format. */
async function showBarcode(): Promise<void> {
  const c = state.card;
  if (!c) return;
  const key = `${state.barcodeFormat}:${c.barcodePayload}`;
  let url = state.barcodes.get(key);
  if (!url) {
    try {
      const res = await api().card.getCardBarcode({ format: state.barcodeFormat, widthPx: state.barcodeFormat === BarcodeFormat.QR ? 256 : 480 });
      url = URL.createObjectURL(new Blob([res.png as BlobPart], { type: "image/png" }));
      state.barcodes.set(key, url);
    } catch (err) {
      return fail(err);
    }
  }
  const img = document.getElementById("card-barcode") as HTMLImageElement | null;
  if (img) img.src = url;
}

function progressView(title: string, current: bigint, target: bigint, text: string, completed: boolean): HTMLElement {
  return h(
    "div",
    { class: `progress-item${completed ? " done" : ""}` },
    h("p", { class: "title" }, title),
    h("progress", { max: Number(target), value: Number(current < target ? current : target), "aria-label": text }),
    h("p", { class: "progress-text" }, completed ? `✓ ${text}` : text),
  );
}

async function loadHome(): Promise<void> {
  try {
    const home = await api().app.getHome({ locale: locale() });
    if (home.card) state.card = home.card;
    state.tier = home.tierProgress;
    state.homeChallenges = home.challenges;
    if (state.activity.length === 0) state.activity = home.recentActivity;
    renderCardTab();
  } catch (err) {
    fail(err);
  }
}

async function addToAppleWallet(e: Event): Promise<void> {
  await busy(e.currentTarget as HTMLButtonElement, async () => {
    try {
      const res = await api().wallet.getApplePass({ delivery: ApplePassDelivery.LINK });
      if (res.development) say(tx("wallet.dev"));
      location.href = res.downloadUrl;
    } catch (err) {
      if (ConnectError.from(err).code === Code.Unavailable) say(tx("wallet.unavailable"), "error");
      else fail(err);
    }
  });
}

async function saveToGoogleWallet(e: Event): Promise<void> {
  await busy(e.currentTarget as HTMLButtonElement, async () => {
    try {
      const res = await api().wallet.getGoogleWalletLink({});
      if (res.development) say(tx("wallet.dev"));
      window.open(res.saveUrl, "_blank", "noopener");
    } catch (err) {
      if (ConnectError.from(err).code === Code.Unavailable) say(tx("wallet.unavailable"), "error");
      else fail(err);
    }
  });
}

// ---------------------------------------------------------------------------
// Live updates

function startWatch(): void {
  state.watch?.abort();
  const ctl = new AbortController();
  state.watch = ctl;
  void watchLoop(ctl.signal);
}

async function watchLoop(signal: AbortSignal): Promise<void> {
  let backoff = 500;
  while (!signal.aborted) {
    if (!navigator.onLine) {
      setNet("offline");
      await new Promise((r) => window.addEventListener("online", r, { once: true }));
      continue;
    }
    try {
      const since = state.card ? state.card.version : undefined;
      for await (const msg of api().card.watchCard({ locale: locale(), sinceVersion: since }, { signal })) {
        setNet("live");
        backoff = 500;
        if (msg.event.case === "update") applyUpdate(msg.event.value);
      }
    } catch (err) {
      if (signal.aborted) return;
      const ce = ConnectError.from(err);
      if (ce.code === Code.Unauthenticated || ce.code === Code.FailedPrecondition) return fail(ce);
      setNet(navigator.onLine ? "reconnecting" : "offline");
    }
    // The server ends streams after an hour; reconnect at once after a
    // clean end, with backoff after a failure.
    await new Promise((r) => setTimeout(r, backoff * (0.5 + Math.random())));
    backoff = Math.min(backoff * 2, 30_000);
  }
}

function applyUpdate(u: CardUpdate): void {
  const before = state.card?.balance;
  if (u.card) state.card = u.card;
  if (u.tierProgress) state.tier = u.tierProgress;
  if (u.activities.length > 0) {
    const seen = new Set(state.activity.map((a) => a.id));
    const fresh = u.activities.filter((a) => !seen.has(a.id)).reverse();
    state.activity = [...fresh, ...state.activity];
  }
  for (const p of u.challenges) {
    const i = state.homeChallenges.findIndex((c) => c.challengeId === p.challengeId);
    if (i >= 0) state.homeChallenges[i] = p;
    else state.homeChallenges.push(p);
    const full = state.challenges.find((c) => c.id === p.challengeId);
    if (full) {
      full.progress = p;
      if (p.completed) full.status = ChallengeStatus.COMPLETED;
    } else {
      void loadChallenges();
    }
  }
  if (u.stampCards.length > 0) state.stamps = u.stampCards;
  renderCardTab();
  renderChallenges();
  renderActivity();
  renderRewards();
  if (u.activitiesTruncated) void loadActivity(true);
  if (u.cause === CardUpdateCause.CHANGE) {
    void loadVouchers();
    const after = state.card?.balance;
    if (before !== undefined && after !== undefined && after > before) {
      say(tx("live.earned", fmt.points(after - before, state.lang), fmt.points(after, state.lang)));
    }
  }
}

// ---------------------------------------------------------------------------
// Rewards and vouchers

function renderRewards(): void {
  const section = document.getElementById("view-rewards");
  if (!section) return;
  const available = state.card?.availableBalance ?? 0n;
  const pointName = state.card?.pointName ?? "";
  replace(
    section,
    h("h2", {}, tx("rewards.title")),
    h(
      "ul",
      { class: "list", id: "rewards" },
      state.rewards.map((r) =>
        h(
          "li",
          { class: "reward", "data-reward": r.id },
          h("p", { class: "title" }, r.name),
          h("p", {}, r.description),
          r.remainingStock !== undefined && h("p", { class: "muted" }, tx("rewards.stock", fmt.points(r.remainingStock, state.lang))),
          available >= r.cost
            ? h("button", { class: "primary", onclick: (e: Event) => redeem(e, r) }, tx("rewards.redeem", `${fmt.points(r.cost, state.lang)} ${pointName}`))
            : h("p", { class: "muted" }, tx("rewards.short", `${fmt.points(r.cost - available, state.lang)} ${pointName}`)),
        ),
      ),
    ),
    h("h2", {}, tx("vouchers.title")),
    state.vouchers.length === 0
      ? h("p", { class: "muted" }, tx("vouchers.none"))
      : h("ul", { class: "list", id: "vouchers" }, state.vouchers.map(voucherItem)),
  );
}

function voucherItem(v: Voucher): HTMLElement {
  const issued = v.status === VoucherStatus.ISSUED;
  return h(
    "li",
    { class: `voucher${issued ? "" : " used"}`, "data-voucher": v.code },
    h("p", { class: "title" }, v.rewardName),
    issued && h("div", { class: "voucher-barcode" }, code128Svg(v.code, tx("vouchers.barcode", v.code))),
    h("p", { class: "voucher-code" }, v.code),
    h(
      "p",
      { class: "muted" },
      issued
        ? tx("vouchers.until", fmt.date(v.expireTime, state.lang))
        : v.status === VoucherStatus.REDEEMED
          ? tx("vouchers.redeemed", fmt.dateTime(v.redeemTime, state.lang))
          : tx("vouchers.expired"),
    ),
  );
}

const redeemKeys = new Map<string, string>();

async function redeem(e: Event, r: Reward): Promise<void> {
  // One key per reward until it succeeds: a retry after a lost answer
  // returns the first voucher instead of buying a second.
  const key = redeemKeys.get(r.id) ?? newKey("web-redeem");
  redeemKeys.set(r.id, key);
  await busy(e.currentTarget as HTMLButtonElement, async () => {
    try {
      const res = await api().reward.redeemReward({ rewardId: r.id, idempotencyKey: key, locale: locale() });
      redeemKeys.delete(r.id);
      if (res.voucher && !state.vouchers.some((v) => v.code === res.voucher!.code)) state.vouchers.unshift(res.voucher);
      renderRewards();
      say(tx("rewards.done", r.name));
      document.querySelector(`[data-voucher="${CSS.escape(res.voucher?.code ?? "")}"]`)?.scrollIntoView({ block: "center" });
    } catch (err) {
      // The key stays: a failed redemption books nothing, and a retry
      // whose first try did book returns that voucher.
      fail(err);
    }
  });
}

async function loadRewards(): Promise<void> {
  try {
    state.rewards = (await api().reward.listRewards({ locale: locale() })).rewards;
    renderRewards();
  } catch (err) {
    fail(err);
  }
}

async function loadVouchers(): Promise<void> {
  try {
    state.vouchers = (await api().reward.listVouchers({ locale: locale() })).vouchers;
    renderRewards();
  } catch (err) {
    fail(err);
  }
}

// ---------------------------------------------------------------------------
// Challenges

const statusText: Record<ChallengeStatus, Parameters<typeof t>[1] | undefined> = {
  [ChallengeStatus.UNSPECIFIED]: undefined,
  [ChallengeStatus.AVAILABLE]: "challenges.available",
  [ChallengeStatus.ACTIVE]: "challenges.active",
  [ChallengeStatus.COMPLETED]: "challenges.completed",
  [ChallengeStatus.ENDED]: "challenges.ended",
};

function renderChallenges(): void {
  const section = document.getElementById("view-challenges");
  if (!section) return;
  replace(
    section,
    h("h2", {}, tx("challenges.title")),
    state.challenges.length === 0
      ? h("p", { class: "muted" }, tx("challenges.none"))
      : h(
          "ul",
          { class: "list", id: "challenges" },
          state.challenges.map((c) => {
            const status = statusText[c.status];
            return h(
              "li",
              { class: "challenge", "data-challenge": c.id, "data-status": ChallengeStatus[c.status] },
              h("p", { class: "title" }, c.title, " ", status && h("span", { class: "badge" }, tx(status))),
              h("p", {}, c.description),
              c.progress && progressView("", c.progress.current, c.progress.target, c.progress.progressText, c.progress.completed),
              h(
                "p",
                { class: "muted" },
                tx("challenges.bonus", fmt.points(c.bonusPoints, state.lang)),
                c.endTime && ` · ${tx("challenges.until", fmt.date(c.endTime, state.lang))}`,
              ),
              c.status === ChallengeStatus.AVAILABLE &&
                c.optIn &&
                h("button", { class: "primary", onclick: (e: Event) => activate(e, c) }, tx("challenges.activate")),
            );
          }),
        ),
  );
}

async function loadChallenges(): Promise<void> {
  try {
    state.challenges = (await api().challenge.listChallenges({ locale: locale() })).challenges;
    renderChallenges();
    renderCardTab();
  } catch (err) {
    fail(err);
  }
}

async function activate(e: Event, c: Challenge): Promise<void> {
  await busy(e.currentTarget as HTMLButtonElement, async () => {
    try {
      const res = await api().challenge.activateChallenge({ challengeId: c.id, locale: locale() });
      const i = state.challenges.findIndex((x) => x.id === c.id);
      if (res.challenge && i >= 0) state.challenges[i] = res.challenge;
      renderChallenges();
      renderCardTab();
    } catch (err) {
      fail(err);
    }
  });
}

// ---------------------------------------------------------------------------
// Activity

function activityItem(a: Activity): HTMLElement {
  const sign = a.points > 0n ? "+" : "";
  return h(
    "li",
    { class: "activity-item", "data-activity": a.id },
    h("span", { class: "reason" }, a.reason),
    h("span", { class: `points${a.points < 0n ? " minus" : ""}` }, a.points === 0n ? "" : `${sign}${fmt.points(a.points, state.lang)}`),
    h("span", { class: "muted when" }, fmt.dateTime(a.createTime, state.lang)),
  );
}

function renderActivity(): void {
  const section = document.getElementById("view-activity");
  if (!section) return;
  replace(
    section,
    h("h2", {}, tx("activity.title")),
    state.activity.length === 0
      ? h("p", { class: "muted" }, tx("activity.none"))
      : h("ul", { class: "list activity", id: "activity" }, state.activity.map(activityItem)),
    state.nextPage && h("button", { onclick: () => loadActivity(false) }, tx("activity.more")),
  );
}

async function loadActivity(first: boolean): Promise<void> {
  try {
    const res = await api().card.listActivity({
      pageSize: activityPageSize,
      pageToken: first ? "" : state.nextPage,
      locale: locale(),
    });
    state.activity = first ? res.activities : [...state.activity, ...res.activities];
    state.nextPage = res.nextPageToken;
    renderActivity();
  } catch (err) {
    fail(err);
  }
}

// ---------------------------------------------------------------------------
// Me: language, consents, export, erasure

const purposes = [
  ConsentPurpose.TRANSACTIONAL_PUSH,
  ConsentPurpose.MARKETING_PUSH,
  ConsentPurpose.PERSONALISED_OFFERS,
  ConsentPurpose.BIRTHDAY,
  ConsentPurpose.PROFILE,
] as const;

function renderMe(): void {
  const section = document.getElementById("view-me");
  if (!section) return;
  const granted = (p: ConsentPurpose) => state.consents.find((c) => c.purpose === p)?.granted ?? false;
  const who = state.session?.kind === "firebase" ? state.session.email : state.session?.uid;
  replace(
    section,
    h("h2", {}, tx("me.title")),
    h("p", { class: "muted" }, who ?? ""),
    h(
      "fieldset",
      { class: "panel", id: "consents" },
      h("legend", {}, tx("me.consents")),
      h("p", { class: "muted" }, tx("me.consentsHelp")),
      purposes.map((p) =>
        h(
          "label",
          { class: "check" },
          h("input", {
            type: "checkbox",
            "data-purpose": ConsentPurpose[p],
            checked: granted(p),
            onchange: (e: Event) => setConsent(e.currentTarget as HTMLInputElement, p),
          }),
          tx(`consent.${p}` as Parameters<typeof t>[1]),
        ),
      ),
    ),
    h(
      "div",
      { class: "panel" },
      h("button", { id: "export", onclick: exportData }, tx("me.export")),
      h("p", { class: "muted" }, tx("me.exportHelp")),
    ),
    h(
      "div",
      { class: "panel danger" },
      h("button", { id: "delete", class: "danger", onclick: askDelete }, tx("me.delete")),
      h("p", { class: "muted" }, tx("me.deleteHelp")),
      h("div", { id: "delete-confirm", hidden: true },
        h("p", { role: "alert" }, tx("me.deleteConfirm")),
        h("button", { id: "delete-yes", class: "danger", onclick: deleteAccount }, tx("me.delete")),
      ),
    ),
    h("button", { id: "signout", onclick: signOut }, tx("signout")),
  );
}

async function loadConsents(): Promise<void> {
  try {
    state.consents = (await api().account.getConsents({})).consents;
    renderMe();
  } catch (err) {
    fail(err);
  }
}

async function setConsent(box: HTMLInputElement, purpose: ConsentPurpose): Promise<void> {
  const granted = box.checked;
  box.disabled = true;
  try {
    const res = await api().account.setConsent({ purpose, granted, textVersion: consentTextVersion, source: "web" });
    state.consents = [...state.consents.filter((c) => c.purpose !== purpose), ...(res.consent ? [res.consent] : [])];
  } catch (err) {
    box.checked = !granted;
    fail(err);
  } finally {
    box.disabled = false;
  }
}

async function exportData(e: Event): Promise<void> {
  await busy(e.currentTarget as HTMLButtonElement, async () => {
    try {
      const parts: BlobPart[] = [];
      let name = "treue-export.json";
      let type = "application/json";
      let size = 0;
      for await (const msg of api().privacy.exportMyData({})) {
        if (msg.fileName) name = msg.fileName;
        if (msg.contentType) type = msg.contentType;
        parts.push(msg.chunk as BlobPart);
        size += msg.chunk.length;
      }
      const url = URL.createObjectURL(new Blob(parts, { type }));
      const a = h("a", { href: url, download: name, hidden: true });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      say(tx("me.exported", fmt.points(size, state.lang)));
    } catch (err) {
      fail(err);
    }
  });
}

function askDelete(): void {
  byId("delete-confirm").hidden = false;
  byId("delete-yes").focus();
}

async function deleteAccount(e: Event): Promise<void> {
  await busy(e.currentTarget as HTMLButtonElement, async () => {
    try {
      await api().privacy.deleteMyAccount({});
      signOut();
      say(tx("me.deleted"));
    } catch (err) {
      fail(err);
    }
  });
}

// ---------------------------------------------------------------------------
// Start

function renderLangButton(): void {
  const b = byId<HTMLButtonElement>("lang");
  b.textContent = tx("lang.switch");
  b.onclick = () => {
    state.lang = state.lang === "de" ? "en" : "de";
    setLang(state.lang);
    renderLangButton();
    if (!state.session) return renderSignIn();
    // Texts from the server come in the language asked for: read them again.
    renderShell();
    void loadHome();
    void Promise.all([loadChallenges(), loadRewards(), loadVouchers(), loadActivity(true)]);
    startWatch();
  };
}

async function main(): Promise<void> {
  setLang(state.lang);
  renderLangButton();
  window.addEventListener("hashchange", showTab);
  window.addEventListener("offline", () => setNet("offline"));
  try {
    state.cfg = await loadConfig();
  } catch (err) {
    return fail(err);
  }
  const s = loadSession();
  if (s && (s.kind !== "dev" || state.cfg.dev)) await signIn(s);
  else renderSignIn();
}

void main();
