// End-to-end test of the customer app and the till simulator in headless
// Chromium (Debian's /usr/bin/chromium, or the one TREUE_CHROMIUM names),
// driven by playwright-core, against a real treued started as
// web/testing/treued.mjs says.
//
// At phone size it signs a customer in, posts a purchase from the till page
// and checks that the customer page shows the new balance and the
// challenge progress within a second, without a reload; it redeems a
// reward and reads the voucher's barcode back from a screenshot (zbarimg);
// the till takes the voucher once. It writes screenshots of both pages to
// TREUE_SCREENSHOTS (default web/browser/screenshots) and prints the time
// to the first card on screen and the bundles' gzipped sizes.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { createRequire } from "node:module";
import { gzipSync } from "node:zlib";

import { chromium } from "playwright-core";

import { startAuthEmulator } from "../testing/authemulator.mjs";
import { repo, startTreued } from "../testing/treued.mjs";

const chromiumPath = process.env.TREUE_CHROMIUM ?? "/usr/bin/chromium";
const shots = path.resolve(process.env.TREUE_SCREENSHOTS ?? path.join(repo, "web/browser/screenshots"));
// An iPhone 13/14-sized screen.
const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

let server;
let browser;

before(async () => {
  if (!existsSync(chromiumPath)) {
    throw new Error(`no Chromium at ${chromiumPath}: apt-get install chromium, or set TREUE_CHROMIUM`);
  }
  await mkdir(shots, { recursive: true });
  server = await startTreued("browser");
  // Running as root (CI) needs --no-sandbox.
  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * newPage opens a page at phone size in its own context (own storage);
 * bypassCSP lets the accessibility check inject axe-core.
 */
async function newPage(locale = "de-DE", bypassCSP = false) {
  const context = await browser.newContext({ ...phone, locale, bypassCSP });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (err) => errors.push(err));
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(new Error(msg.text()));
  });
  return { context, page, errors };
}

async function signIn(page, uid) {
  await page.goto(`${server.baseUrl}/`);
  await page.getByLabel(/Benutzer-ID|User ID/).fill(uid);
  await page.getByRole("button", { name: /Anmelden|Sign in/ }).click();
  await page.locator("#balance").waitFor();
  await page.locator("#card-barcode[src^='blob:']").waitFor();
}

/** number reads a formatted German number ("1.234") as a Number. */
const number = (s) => Number(s.replace(/[^\d-]/g, ""));

async function cardNumber(page) {
  return (await page.locator("#card-number").textContent()).replace(/\s/g, "");
}

async function tillPage() {
  const till = await newPage();
  await till.page.goto(`${server.baseUrl}/till`);
  await till.page.locator("#earn").waitFor();
  assert.equal(await till.page.locator("#till-key").inputValue(), "demo-store-key", "dev mode fills in the demo till key");
  return till;
}

/** post posts a purchase from the till page and returns the balance it reports. */
async function post(till, card, amount, items = {}) {
  await till.locator("#card").fill(card);
  for (const [sku, qty] of Object.entries(items)) await till.locator(`#qty-${sku}`).fill(String(qty));
  if (amount !== undefined) await till.locator("#amount").fill(amount);
  const journalBefore = await till.locator("#journal li").count();
  await till.locator("#earn").click();
  await till.locator("#journal li").nth(journalBefore).waitFor();
  const line = await till.locator("#journal li").first().textContent();
  const m = /Guthaben ([\d.]+)/.exec(line);
  assert.ok(m, `the till's journal reports the purchase: ${line}`);
  return number(m[1]);
}

/** decodeBarcode returns what zbarimg reads in a PNG screenshot. */
async function decodeBarcode(file) {
  const { stdout } = await promisify(execFile)("zbarimg", ["--quiet", "--raw", file]);
  return stdout.trim();
}

function hasZbar() {
  return ["/usr/bin/zbarimg", "/usr/local/bin/zbarimg"].some(existsSync);
}

describe("customer app and till simulator", () => {
  it("shows a purchase from the till live, redeems a reward and the till takes the voucher", async () => {
    const customer = await newPage();
    const page = customer.page;
    await signIn(page, `browser-anna-${Date.now()}`);
    const card = await cardNumber(page);
    assert.match(card, /^\d{16}$/);
    const balanceBefore = number(await page.locator("#balance").textContent());

    // The automatic challenge "20 € in einer Woche" starts at nothing.
    const spend = page.locator('#home-challenges [data-challenge="spend-20"]');
    await spend.waitFor();
    const spendBefore = await spend.locator("progress").evaluate((p) => p.value);
    const spendTextBefore = await spend.locator(".progress-text").textContent();
    // A mark that a reload would lose.
    await page.evaluate(() => (window.__sameDocument = true));

    const till = await tillPage();
    // 1 Käsekuchen (3,90 €) in the items; the amount the cashier types wins.
    const reported = await post(till.page, card, "64,90", { kuchen: 1 });
    const posted = Date.now();
    await page.waitForFunction(
      (want) => Number(document.getElementById("balance")?.textContent?.replace(/[^\d]/g, "")) === want,
      reported,
      { timeout: 1000, polling: "raf" },
    );
    const shownAfter = Date.now() - posted;
    assert.ok(reported >= balanceBefore + 64, `64,90 € earn at least 64 Sterne: ${balanceBefore} → ${reported}`);
    await page.waitForFunction(
      (before) => {
        const p = document.querySelector('#home-challenges [data-challenge="spend-20"] progress');
        return p && p.value > before;
      },
      spendBefore,
      { timeout: 1000, polling: "raf" },
    );
    const spendTextAfter = await spend.locator(".progress-text").textContent();
    assert.notEqual(spendTextAfter, spendTextBefore, "the challenge's progress text changed");
    assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page was not reloaded");
    // The purchase's entry is on top of the recent activity.
    await page.locator("#recent li", { hasText: "64,90" }).first().waitFor({ timeout: 1000 });
    console.log(`# balance on the customer page ${shownAfter} ms after the till's answer`);
    // At phone size, as a customer and a cashier see them: the card tab
    // right after the purchase (the toast says so) and the till page with
    // its journal.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(shots, "customer-card.png") });
    await till.page.evaluate(() => window.scrollTo(0, 0));
    await till.page.screenshot({ path: path.join(shots, "till.png") });
    await till.page.locator("#journal").scrollIntoViewIfNeeded();
    await till.page.screenshot({ path: path.join(shots, "till-journal.png") });

    // Redeem 10 % off (50 Sterne) and show the voucher's barcode.
    await page.locator("#tab-rewards").click();
    const reward = page.locator('[data-reward="ten-percent-off"]');
    await reward.getByRole("button").click();
    const voucher = page.locator("#vouchers li.voucher").first();
    await voucher.locator(".voucher-barcode svg").waitFor();
    const code = (await voucher.locator(".voucher-code").textContent()).trim();
    assert.match(code, /^[A-Z0-9-]{4,}$/);
    await voucher.scrollIntoViewIfNeeded();
    const voucherShot = path.join(shots, "customer-voucher.png");
    await page.screenshot({ path: voucherShot });
    if (hasZbar() || process.env.CI === "true") {
      const barcodeShot = path.join(shots, "voucher-barcode.png");
      await voucher.locator(".voucher-barcode").screenshot({ path: barcodeShot });
      assert.equal(await decodeBarcode(barcodeShot), code, "the voucher's barcode reads as its code");
    } else {
      console.log("# zbarimg missing (apt-get install zbar-tools): the voucher barcode was not read back");
    }
    // The card's QR code reads as the card number.
    if (hasZbar() || process.env.CI === "true") {
      await page.locator("#tab-card").click();
      const qrShot = path.join(shots, "card-barcode.png");
      await page.locator("#card-barcode").screenshot({ path: qrShot });
      assert.equal(await decodeBarcode(qrShot), card, "the card's QR code reads as the card number");
      await page.locator("#tab-rewards").click();
    }

    // The till takes the voucher once.
    await till.page.locator("#voucher-code").fill(code.toLowerCase());
    await till.page.locator("#redeem").click();
    await till.page.locator("#journal li", { hasText: code }).first().waitFor();
    await till.page.locator("#voucher-code").fill(code);
    await till.page.locator("#redeem").click();
    await till.page.locator("#journal li.error").first().waitFor();

    // Back on the rewards tab the voucher shows as used.
    await page.locator("#tab-card").click();
    await page.locator("#tab-rewards").click();
    await page.locator(`[data-voucher="${code}"].used`).waitFor();

    assert.deepEqual(customer.errors.filter((e) => !/Failed to load resource/.test(e.message)), [], "no script errors");
    await customer.context.close();
    await till.context.close();
  });

  it("catches up after being offline and shows English texts in English", async () => {
    const customer = await newPage("en-GB");
    const page = customer.page;
    await signIn(page, `browser-ben-${Date.now()}`);
    await page.getByRole("link", { name: "Card" }).waitFor();
    assert.match(await page.locator(".point-name").textContent(), /stars/);
    const card = await cardNumber(page);
    await page.locator('#net[data-state="live"]').waitFor();

    await customer.context.setOffline(true);
    await page.locator('#net[data-state="offline"], #net[data-state="reconnecting"]').waitFor();
    const till = await tillPage();
    const reported = await post(till.page, card, "12,50");
    await customer.context.setOffline(false);
    await page.locator('#net[data-state="live"]').waitFor({ timeout: 15_000 });
    await page.waitForFunction(
      (want) => Number(document.getElementById("balance")?.textContent?.replace(/[^\d]/g, "")) === want,
      reported,
      { timeout: 5000 },
    );
    await page.locator("#recent li", { hasText: "12.50" }).first().waitFor({ timeout: 2000 });
    await customer.context.close();
    await till.context.close();
  });

  it("pays with points, releases a reservation and posts a return from the till", async () => {
    const customer = await newPage();
    const page = customer.page;
    await signIn(page, `browser-pay-${Date.now()}`);
    const card = await cardNumber(page);
    const till = await tillPage();
    const t = till.page;
    const balanceIs = (want) =>
      page.waitForFunction(
        (want) => Number(document.getElementById("balance")?.textContent?.replace(/[^\d]/g, "")) === want,
        want,
        { timeout: 2000 },
      );
    const journalSays = (text) => t.locator("#journal li", { hasText: text }).first().waitFor();
    const receipt = await t.locator("#receipt").inputValue();
    let balance = await post(t, card, "30,00");
    await balanceIs(balance);

    // Reserve 10, then spend 7 of them.
    await t.locator("#pay-points").fill("10");
    await t.locator("#hold").click();
    await journalSays("10 Punkte reserviert");
    await page.waitForFunction(
      (want) => document.getElementById("available")?.textContent?.includes(String(want)),
      balance - 10,
      { timeout: 2000 },
    );
    await t.locator("#pay-points").fill("7");
    await t.locator("#capture").click();
    await journalSays("7 Punkte abgebucht");
    balance -= 7;
    await balanceIs(balance);

    // Reserve again and let go.
    await t.locator("#pay-points").fill("5");
    await t.locator("#hold").click();
    await journalSays("5 Punkte reserviert");
    await t.locator("#release").click();
    await journalSays("Reservierung freigegeben");

    // Return the whole purchase: its 30 Sterne go back.
    assert.equal(await t.locator("#return-receipt").inputValue(), receipt, "the return form names the last receipt");
    await t.locator("#reverse").click();
    await journalSays("zurückgebucht");
    const line = await t.locator("#journal li").first().textContent();
    balance = number(/Guthaben ([\d.]+)/.exec(line)[1]);
    await balanceIs(balance);
    await customer.context.close();
    await till.context.close();
  });

  it("labels every control and reports bad input on the till", async () => {
    const { page, context } = await tillPage();
    await page.locator("#till-key").fill("not-a-till-key");
    await page.locator("#card").fill("4242");
    await page.locator("#lookup").click();
    await page.locator("#journal li.error", { hasText: "API-Schlüssel" }).waitFor();
    await page.locator("#till-key").fill("demo-store-key");
    await page.locator("#card").fill("4242");
    await page.locator("#amount").fill("zwölf");
    await page.locator("#earn").click();
    await page.locator("#journal li.error", { hasText: "12,50" }).waitFor();
    await page.locator("#amount").fill("1,00");
    await page.locator("#earn").click();
    await page.locator("#journal li.error", { hasText: /Eingabe/ }).waitFor();
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll("input:not([type=hidden]), button")]
        .filter((el) => !(el.labels?.length || el.getAttribute("aria-label") || el.textContent.trim()))
        .map((el) => el.id || el.outerHTML),
    );
    assert.deepEqual(unlabelled, [], "controls without a label");
    await context.close();
  });

  it("passes axe-core's WCAG 2 A and AA checks on every screen", async () => {
    const axe = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
    const check = async (page, screen) => {
      await page.addScriptTag({ path: axe });
      const { violations } = await page.evaluate(() =>
        window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
      );
      const found = violations.map((v) => `${screen}: ${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
      assert.deepEqual(found, [], `accessibility violations on ${screen}`);
    };
    for (const locale of ["de-DE", "en-GB"]) {
      const { page, context } = await newPage(locale, true);
      await page.goto(`${server.baseUrl}/`);
      await page.locator("#dev-signin").waitFor();
      await check(page, `sign-in (${locale})`);
      await signIn(page, `browser-a11y-${locale}-${Date.now()}`);
      // Each tab once its content is in (the live stream keeps the network busy).
      const content = { card: "#home-challenges li", rewards: "#rewards li", challenges: "#challenges li", activity: "#activity li", me: "#consents input" };
      for (const [tab, selector] of Object.entries(content)) {
        await page.locator(`#tab-${tab}`).click();
        await page.locator(`#view-${tab}:not([hidden]) ${selector}`).first().waitFor();
        await check(page, `${tab} (${locale})`);
      }
      await page.goto(`${server.baseUrl}/till`);
      await page.locator("#earn").waitFor();
      await check(page, `till (${locale})`);
      await context.close();
    }
  });

  it("adds the card to Apple Wallet and Google Wallet", async () => {
    const { page, context } = await newPage();
    await signIn(page, `browser-wallet-${Date.now()}`);
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#apple-wallet").click()]);
    const pkpass = await readFile(await download.path());
    assert.equal(pkpass.subarray(0, 2).toString(), "PK", "the Apple Wallet button downloads a .pkpass (a zip)");
    assert.ok(pkpass.includes("pass.json") && pkpass.includes("signature"), "the pass holds pass.json and its signature");
    // The save link is answered here: the test reaches no outside host.
    await context.route("https://pay.google.com/**", (route) => route.fulfill({ status: 200, contentType: "text/plain", body: "Google Wallet" }));
    const [popup] = await Promise.all([page.waitForEvent("popup"), page.locator("#google-wallet").click()]);
    await popup.waitForLoadState();
    assert.match(popup.url(), /^https:\/\/pay\.google\.com\/gp\/v\/save\/[\w-]+\.[\w-]+\.[\w-]+$/, "the Google Wallet button opens a save link");
    await context.close();
  });

  it("exports the customer's data and deletes the account", async () => {
    const customer = await newPage();
    const page = customer.page;
    const uid = `browser-gone-${Date.now()}`;
    await signIn(page, uid);
    const card = await cardNumber(page);
    await page.locator("#tab-me").click();
    const consent = page.locator('[data-purpose="MARKETING_PUSH"]');
    await consent.check();
    await page.locator("#banner.error").waitFor({ state: "detached", timeout: 500 }).catch(() => {});
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#export").click()]);
    const exported = JSON.parse(await readFile(await download.path(), "utf8"));
    const text = JSON.stringify(exported);
    assert.ok(text.includes(card), "the export holds the card number");
    assert.ok(text.includes("marketing"), "the export holds the consent just given");
    await page.reload();
    await page.locator("#tab-me").click();
    assert.equal(await page.locator('[data-purpose="MARKETING_PUSH"]').isChecked(), true, "the consent is kept");

    await page.locator("#delete").click();
    await page.locator("#delete-yes").click();
    await page.locator("#dev-signin").waitFor();
    // The same sign-in enrols anew: a new card.
    await signIn(page, uid);
    assert.notEqual(await cardNumber(page), card, "after erasure the member gets a new card");
    await customer.context.close();
  });

  it("reports the time to the first card and the bundles' size", async () => {
    const customer = await newPage();
    const page = customer.page;
    await signIn(page, `browser-cold-${Date.now()}`);
    // A returning customer: the session is stored, the page loads anew,
    // from the cache (revalidated) and cold, on loopback and on a phone
    // network as Chrome's "Slow 4G" preset has it (150 ms round trips,
    // 1.6 Mbit/s down, 750 kbit/s up).
    const cdp = await customer.context.newCDPSession(page);
    const firstCard = async (what, cold) => {
      const times = [];
      for (let i = 0; i < 5; i++) {
        if (cold) await cdp.send("Network.clearBrowserCache");
        // A load makes about 9 calls: pause so that the member's rate limit
        // (10 calls a second, bursts of 30) does not refuse the next load's.
        await page.waitForTimeout(1000);
        await page.reload();
        await page.locator("#balance").waitFor();
        times.push(await page.evaluate(() => performance.getEntriesByName("treue:card-rendered")[0]?.startTime));
      }
      assert.ok(times.every((t) => t > 0), `the card-rendered mark is set: ${times}`);
      times.sort((a, b) => a - b);
      console.log(`# first card on screen, ${what}: ${times.map((t) => t.toFixed(0)).join(", ")} ms (median ${times[2].toFixed(0)} ms)`);
    };
    await cdp.send("Network.enable");
    await firstCard("loopback, cached", false);
    await firstCard("loopback, cold cache", true);
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 150,
      downloadThroughput: (1.6 * 1024 * 1024) / 8,
      uploadThroughput: (750 * 1024) / 8,
    });
    await firstCard("Slow 4G, cached", false);
    await firstCard("Slow 4G, cold cache", true);
    const dir = path.join(repo, "assets/web");
    for (const f of (await readdir(dir)).filter((f) => /\.(js|css|html)$/.test(f)).sort()) {
      const b = await readFile(path.join(dir, f));
      console.log(`# ${f}: ${b.length} B, gzipped ${gzipSync(b, { level: 9 }).length} B`);
    }
    await customer.context.close();
  });
});

describe("Firebase sign-in through the Auth emulator", () => {
  let emulator;
  let fbServer;

  before(async () => {
    emulator = await startAuthEmulator();
    fbServer = await startTreued("browser-firebase", ["-firebase-project", emulator.projectId], {
      FIREBASE_AUTH_EMULATOR_HOST: emulator.host,
    });
  });

  after(async () => {
    await fbServer?.stop();
    await emulator?.stop();
  });

  it("signs up, signs out and in again with email and password, and refuses a wrong password", async () => {
    const { page, context, errors } = await newPage();
    await page.goto(`${fbServer.baseUrl}/`);
    const email = `anna.${Date.now()}@example.com`;
    await page.locator("#email").fill(email);
    await page.locator("#password").fill("geheim123");
    await page.getByRole("button", { name: "Konto anlegen" }).click();
    await page.locator("#balance").waitFor({ timeout: 10_000 }).catch(async (err) => {
      throw new Error(`${err.message}\nbanner: ${await page.locator("#banner").textContent()}\nerrors: ${errors.join("\n")}`);
    });
    const card = await cardNumber(page);

    await page.locator("#tab-me").click();
    await page.locator("#signout").click();
    await page.locator("#password").fill("falsch123");
    await page.locator("#email").fill(email);
    await page.locator("#firebase-signin").getByRole("button", { name: "Anmelden" }).click();
    await page.locator("#banner.error", { hasText: "INVALID" }).waitFor();

    await page.locator("#password").fill("geheim123");
    await page.locator("#firebase-signin").getByRole("button", { name: "Anmelden" }).click();
    await page.locator("#balance").waitFor({ timeout: 10_000 }).catch(async (err) => {
      throw new Error(`${err.message}\nbanner: ${await page.locator("#banner").textContent()}\nerrors: ${errors.join("\n")}`);
    });
    assert.equal(await cardNumber(page), card, "signing in again shows the same card");
    assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e.message)), [], "no script errors");
    await context.close();
  });
});
