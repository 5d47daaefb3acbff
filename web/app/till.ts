// The till simulator: what a store's point-of-sale system does through
// PosService, by hand: look a member up by card number (typed or scanned),
// post a purchase with its items, pay with points (hold, then capture or
// release), post a return and redeem a voucher. Every write carries an
// idempotency key that stays the same until the write succeeds, so
// "send again" after a lost answer never books twice.

import { Code, ConnectError } from "@connectrpc/connect";

import { loadConfig, newKey, tillClient } from "./api.js";
import { busy, byId, h, replace } from "./dom.js";
import * as fmt from "./format.js";
import { currentLang, errorText, type Lang, setLang, t } from "./i18n.js";

/** The demo café's products, with the categories its challenges count. */
const products = [
  { sku: "kaffee", name: "Filterkaffee", category: "coffee", price: 320n },
  { sku: "cappuccino", name: "Cappuccino", category: "coffee", price: 390n },
  { sku: "cold-brew", name: "Cold Brew", category: "cold-brew", price: 450n },
  { sku: "kuchen", name: "Käsekuchen", category: "kuchen", price: 390n },
  { sku: "croissant", name: "Croissant", category: "gebaeck", price: 240n },
];

let lang: Lang = currentLang();
const tx = (key: Parameters<typeof t>[1], ...args: (string | number | bigint)[]) => t(lang, key, ...args);
const keyStorage = "treue.tillKey";
const pos = tillClient(() => byId<HTMLInputElement>("till-key").value.trim());

/** Pending keys: one per kind of write, kept until that write succeeds. */
const pending = new Map<string, { key: string; what: string }>();

/**
 * keyFor returns the idempotency key of a write of kind with the given
 * parameters: the pending one when the parameters are the same (a retry),
 * else a new one.
 */
function keyFor(kind: string, params: unknown): string {
  const what = JSON.stringify(params, (_, v) => (typeof v === "bigint" ? v.toString() : v));
  const p = pending.get(kind);
  if (p && p.what === what) return p.key;
  const key = newKey(`till-${kind}`);
  pending.set(kind, { key, what });
  return key;
}

function journal(text: string, kind: "ok" | "error" = "ok"): void {
  const list = byId("journal");
  list.prepend(h("li", { class: kind }, h("time", {}, new Date().toLocaleTimeString(lang === "de" ? "de-DE" : "en-GB")), " ", text));
  const banner = byId("banner");
  banner.textContent = text;
  banner.className = `banner ${kind === "ok" ? "info" : "error"}`;
  banner.setAttribute("role", kind === "ok" ? "status" : "alert");
  banner.hidden = false;
}

/** run does a write and journals its outcome. */
async function run(kind: string, button: HTMLButtonElement | null, work: () => Promise<string>): Promise<void> {
  await busy(button, async () => {
    try {
      const text = await work();
      pending.delete(kind);
      journal(text);
    } catch (err) {
      // The key stays for a retry with the same parameters: a failed
      // write booked nothing, and one whose answer was lost is returned.
      const ce = ConnectError.from(err);
      journal(ce.code === Code.Unauthenticated ? tx("till.badKey") : errorText(lang, ce), "error");
    }
  });
}

function cardNumber(): string | undefined {
  const v = byId<HTMLInputElement>("card").value.replace(/\s+/g, "");
  if (!v) {
    journal(tx("till.needCard"), "error");
    return undefined;
  }
  return v;
}

function field(id: string, label: string, attrs: Record<string, string | number | boolean> = {}): HTMLElement[] {
  return [h("label", { for: id }, label), h("input", { id, name: id, ...attrs })];
}

function button(id: string, label: string, onclick: (e: Event) => void, primary = false): HTMLButtonElement {
  return h("button", { id, type: "button", class: primary ? "primary" : undefined, onclick }, label);
}

// ---------------------------------------------------------------------------
// Actions

async function lookup(e: Event): Promise<void> {
  const card = cardNumber();
  if (!card) return;
  await run("lookup", e.currentTarget as HTMLButtonElement, async () => {
    const res = await pos.lookupMember({ cardNumber: card });
    const c = res.member?.card;
    if (!c) return "";
    byId<HTMLInputElement>("card").value = c.cardNumber;
    return tx("till.member", fmt.cardNumber(c.cardNumber), fmt.points(c.balance, lang), c.pointName, fmt.points(c.availableBalance, lang), c.tier?.name ?? "");
  });
}

interface Item {
  sku: string;
  name: string;
  category: string;
  quantity: number;
  amountMinor: bigint;
}

function lineItems(): Item[] {
  const items: Item[] = [];
  for (const p of products) {
    const qty = Number(byId<HTMLInputElement>(`qty-${p.sku}`).value || "0");
    if (qty > 0) {
      items.push({ sku: p.sku, name: p.name, category: p.category, quantity: qty, amountMinor: p.price * BigInt(qty) });
    }
  }
  return items;
}

/** sumItems puts the items' total into the amount field. */
function sumItems(): void {
  const total = lineItems().reduce((s, i) => s + i.amountMinor, 0n);
  byId<HTMLInputElement>("amount").value = total > 0n ? (Number(total) / 100).toFixed(2).replace(".", lang === "de" ? "," : ".") : "";
}

async function earn(e: Event): Promise<void> {
  const card = cardNumber();
  if (!card) return;
  const amount = fmt.parseMoney(byId<HTMLInputElement>("amount").value);
  if (amount === undefined) return journal(tx("till.badAmount"), "error");
  const receipt = byId<HTMLInputElement>("receipt");
  const req = { cardNumber: card, amountMinor: amount, currency: "EUR", receiptId: receipt.value.trim(), lineItems: lineItems() };
  await run("earn", e.currentTarget as HTMLButtonElement, async () => {
    const res = await pos.earn({ ...req, idempotencyKey: keyFor("earn", req) });
    byId<HTMLInputElement>("return-receipt").value = req.receiptId;
    receipt.value = nextReceipt();
    return tx("till.earned", req.receiptId, fmt.points(res.pointsEarned, lang), fmt.points(res.balance, lang));
  });
}

async function hold(e: Event): Promise<void> {
  const card = cardNumber();
  if (!card) return;
  const points = pointsField("pay-points");
  if (points === undefined) return;
  const req = { cardNumber: card, points, ttlSeconds: 300 };
  await run("hold", e.currentTarget as HTMLButtonElement, async () => {
    const res = await pos.hold({ ...req, idempotencyKey: keyFor("hold", req) });
    byId<HTMLInputElement>("hold-id").value = res.hold?.id ?? "";
    return tx("till.held", fmt.points(res.hold?.points ?? 0n, lang), fmt.points(res.availableBalance, lang));
  });
}

async function capture(e: Event): Promise<void> {
  const holdId = byId<HTMLInputElement>("hold-id").value;
  if (!holdId) return journal(tx("till.needHold"), "error");
  const points = pointsField("pay-points");
  if (points === undefined) return;
  const req = { holdId, points };
  await run("capture", e.currentTarget as HTMLButtonElement, async () => {
    const res = await pos.capture({ ...req, idempotencyKey: keyFor("capture", req) });
    byId<HTMLInputElement>("hold-id").value = "";
    return tx("till.captured", fmt.points(res.pointsSpent, lang), fmt.points(res.balance, lang));
  });
}

async function release(e: Event): Promise<void> {
  const holdId = byId<HTMLInputElement>("hold-id").value;
  if (!holdId) return journal(tx("till.needHold"), "error");
  const req = { holdId };
  await run("release", e.currentTarget as HTMLButtonElement, async () => {
    await pos.release({ ...req, idempotencyKey: keyFor("release", req) });
    byId<HTMLInputElement>("hold-id").value = "";
    return tx("till.released");
  });
}

async function reverse(e: Event): Promise<void> {
  const receiptId = byId<HTMLInputElement>("return-receipt").value.trim();
  const raw = byId<HTMLInputElement>("return-amount").value.trim();
  const amount = raw === "" ? 0n : fmt.parseMoney(raw);
  if (amount === undefined) return journal(tx("till.badAmount"), "error");
  const req = { receiptId, amountMinor: amount };
  await run("reverse", e.currentTarget as HTMLButtonElement, async () => {
    const res = await pos.reverse({
      purchase: { case: "receiptId", value: receiptId },
      amountMinor: amount,
      idempotencyKey: keyFor("reverse", req),
    });
    let text = tx("till.reversed", fmt.points(res.pointsReversed, lang), fmt.points(res.balance, lang));
    if (res.pointsUnrecovered > 0n) text += ` · ${tx("till.unrecovered", fmt.points(res.pointsUnrecovered, lang))}`;
    return text;
  });
}

async function redeemVoucher(e: Event): Promise<void> {
  const code = byId<HTMLInputElement>("voucher-code").value.trim().toUpperCase();
  const req = { code };
  await run("voucher", e.currentTarget as HTMLButtonElement, async () => {
    const res = await pos.redeemVoucher({ ...req, idempotencyKey: keyFor("voucher", req) });
    return tx("till.redeemed", res.voucher?.code ?? code, res.voucher?.rewardName ?? "");
  });
}

function pointsField(id: string): bigint | undefined {
  const v = byId<HTMLInputElement>(id).value.trim();
  if (!/^\d{1,15}$/.test(v) || BigInt(v) <= 0n) {
    journal(tx("till.badPoints"), "error");
    return undefined;
  }
  return BigInt(v);
}

let receiptSeq = 0;
function nextReceipt(): string {
  receiptSeq++;
  const d = new Date();
  const stamp = `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, "0")}${String(d.getDate()).padStart(2, "0")}`;
  return `${stamp}-${String(d.getHours()).padStart(2, "0")}${String(d.getMinutes()).padStart(2, "0")}${String(d.getSeconds()).padStart(2, "0")}-${receiptSeq}`;
}

// ---------------------------------------------------------------------------
// Camera scanning, where the browser has BarcodeDetector

interface Detector {
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>;
}
type DetectorClass = new (opts: { formats: string[] }) => Detector;

let scanning: MediaStream | undefined;

async function scan(e: Event): Promise<void> {
  const b = e.currentTarget as HTMLButtonElement;
  const video = byId<HTMLVideoElement>("scanner");
  if (scanning) return stopScan(b, video);
  const BD = (globalThis as unknown as { BarcodeDetector?: DetectorClass }).BarcodeDetector;
  if (!BD || !navigator.mediaDevices?.getUserMedia) return journal(tx("till.noCamera"), "error");
  try {
    scanning = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch {
    return journal(tx("till.noCamera"), "error");
  }
  video.srcObject = scanning;
  video.hidden = false;
  await video.play();
  b.textContent = tx("till.scanStop");
  const detector = new BD({ formats: ["qr_code", "code_128"] });
  while (scanning) {
    const codes = await detector.detect(video).catch(() => []);
    if (codes.length > 0) {
      byId<HTMLInputElement>("card").value = codes[0].rawValue;
      stopScan(b, video);
      byId<HTMLButtonElement>("lookup").click();
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function stopScan(b: HTMLButtonElement, video: HTMLVideoElement): void {
  scanning?.getTracks().forEach((tr) => tr.stop());
  scanning = undefined;
  video.hidden = true;
  b.textContent = tx("till.scan");
}

// ---------------------------------------------------------------------------
// Page

function render(devKey: string | undefined): void {
  const saved = sessionStorage.getItem(keyStorage) ?? devKey ?? "";
  replace(
    byId("view"),
    h(
      "section",
      { class: "panel" },
      field("till-key", tx("till.key"), { type: "password", autocomplete: "off", value: saved, required: true }),
      field("card", tx("till.card"), { inputmode: "numeric", autocomplete: "off", required: true, maxlength: 64 }),
      h("div", { class: "row" }, button("scan", tx("till.scan"), scan), button("lookup", tx("till.lookup"), lookup)),
      h("video", { id: "scanner", hidden: true, playsinline: true, muted: true }),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "h-purchase" },
      h("h2", { id: "h-purchase" }, tx("till.purchase")),
      h(
        "fieldset",
        { class: "items" },
        h("legend", {}, tx("till.items")),
        products.map((p) =>
          h(
            "label",
            { class: "item" },
            h("span", {}, `${p.name} (${fmt.money(p.price, "EUR", lang)})`),
            h("input", { id: `qty-${p.sku}`, type: "number", min: 0, max: 99, value: 0, inputmode: "numeric", onchange: sumItems, oninput: sumItems }),
          ),
        ),
      ),
      field("amount", tx("till.amount"), { inputmode: "decimal", autocomplete: "off", placeholder: "12,50" }),
      field("receipt", tx("till.receipt"), { value: nextReceipt(), maxlength: 64 }),
      button("earn", tx("till.earn"), earn, true),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "h-pay" },
      h("h2", { id: "h-pay" }, tx("till.pay")),
      field("pay-points", tx("till.points"), { inputmode: "numeric", autocomplete: "off" }),
      h("input", { id: "hold-id", type: "hidden" }),
      h("div", { class: "row" }, button("hold", tx("till.hold"), hold, true), button("capture", tx("till.capture"), capture), button("release", tx("till.release"), release)),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "h-return" },
      h("h2", { id: "h-return" }, tx("till.return")),
      field("return-receipt", tx("till.receipt"), { maxlength: 64 }),
      field("return-amount", tx("till.returnAmount"), { inputmode: "decimal", autocomplete: "off" }),
      button("reverse", tx("till.reverse"), reverse, true),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "h-voucher" },
      h("h2", { id: "h-voucher" }, tx("till.voucher")),
      field("voucher-code", tx("till.code"), { autocomplete: "off", maxlength: 64 }),
      button("redeem", tx("till.redeem"), redeemVoucher, true),
    ),
    h("section", { class: "panel" }, h("h2", {}, tx("till.journal")), h("ol", { id: "journal", class: "journal", "aria-live": "polite" })),
  );
  byId("till-key").addEventListener("change", (e) => sessionStorage.setItem(keyStorage, (e.target as HTMLInputElement).value.trim()));
}

async function main(): Promise<void> {
  setLang(lang);
  const langButton = byId<HTMLButtonElement>("lang");
  let devKey: string | undefined;
  const paint = () => {
    langButton.textContent = tx("lang.switch");
    byId("program").textContent = tx("till.title");
    render(devKey);
  };
  langButton.onclick = () => {
    lang = lang === "de" ? "en" : "de";
    setLang(lang);
    paint();
  };
  try {
    devKey = (await loadConfig()).till_key;
  } catch (err) {
    journal(errorText(lang, err), "error");
  }
  paint();
}

void main();
