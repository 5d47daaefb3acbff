// Formatting of numbers, money, dates and card numbers for the UI language.

import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Lang } from "./i18n.js";

const tag = (lang: Lang) => (lang === "de" ? "de-DE" : "en-GB");

/** points formats a number of points with thousands separators. */
export function points(n: bigint | number, lang: Lang): string {
  return new Intl.NumberFormat(tag(lang)).format(n);
}

/** money formats minor units of a currency, e.g. 1250 EUR → "12,50 €". */
export function money(minor: bigint | number, currency: string, lang: Lang): string {
  return new Intl.NumberFormat(tag(lang), { style: "currency", currency }).format(Number(minor) / 100);
}

/** date formats a timestamp as a date, or "" when it is absent. */
export function date(ts: Timestamp | undefined, lang: Lang): string {
  return ts ? new Intl.DateTimeFormat(tag(lang), { dateStyle: "medium" }).format(timestampDate(ts)) : "";
}

/** dateTime formats a timestamp as date and time, or "" when it is absent. */
export function dateTime(ts: Timestamp | undefined, lang: Lang): string {
  return ts
    ? new Intl.DateTimeFormat(tag(lang), { dateStyle: "medium", timeStyle: "short" }).format(timestampDate(ts))
    : "";
}

/** cardNumber groups a card number in fours: "9276 0000 1234 5678". */
export function cardNumber(n: string): string {
  return n.replace(/(\d{4})(?=\d)/g, "$1 ");
}

/**
 * parseMoney reads an amount typed by a person ("12,50", "12.5", "12") as
 * minor units; it returns undefined for anything else or a negative amount.
 */
export function parseMoney(s: string): bigint | undefined {
  const m = /^\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*(?:€|EUR)?\s*$/i.exec(s);
  if (!m) return undefined;
  return BigInt(m[1]) * 100n + BigInt((m[2] ?? "0").padEnd(2, "0"));
}
