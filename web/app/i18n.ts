// The texts of the web app in German and English. Texts that come from the
// server (reasons, reward names, challenge titles) arrive in the language
// the app asks for with each call.

import { Code, ConnectError } from "@connectrpc/connect";

export type Lang = "de" | "en";

const de = {
  "app.title": "Treue",
  "lang.switch": "English",
  "net.offline": "Offline – wir verbinden neu, sobald das Netz zurück ist.",
  "net.reconnecting": "Verbindung unterbrochen – neuer Versuch …",
  "signin.title": "Anmelden",
  "signin.dev": "Entwicklungsmodus: Melde dich mit einem beliebigen Namen an.",
  "signin.uid": "Benutzer-ID",
  "signin.submit": "Anmelden",
  "signin.email": "E-Mail",
  "signin.password": "Passwort",
  "signin.create": "Konto anlegen",
  "signin.firebase": "Mit E-Mail anmelden",
  "signin.none": "Die Anmeldung ist auf diesem Server nicht eingerichtet.",
  "signin.badUid": "Die ID braucht 1 bis 128 Zeichen ohne Leerzeichen.",
  "signout": "Abmelden",
  "tab.card": "Karte",
  "tab.rewards": "Prämien",
  "tab.challenges": "Challenges",
  "tab.activity": "Verlauf",
  "tab.me": "Ich",
  "card.balance": "Guthaben",
  "card.available": "Verfügbar: {0}",
  "card.pending": "Noch nicht verfügbar: {0}",
  "card.expiry": "{0} verfallen am {1}",
  "card.noExpiry": "Keine Punkte verfallen demnächst.",
  "card.tier": "Stufe",
  "card.top": "Höchste Stufe erreicht",
  "card.number": "Kartennummer",
  "card.barcode": "Barcode deiner Karte",
  "card.qr": "QR-Code",
  "card.linear": "Strichcode",
  "card.live": "Live",
  "wallet.apple": "Zu Apple Wallet hinzufügen",
  "wallet.google": "In Google Wallet speichern",
  "wallet.unavailable": "Wallet-Pässe sind auf diesem Server nicht eingerichtet.",
  "wallet.dev": "Entwicklungspass – nur zum Testen.",
  "home.challenges": "Deine Challenges",
  "home.stamps": "Stempelkarten",
  "home.recent": "Zuletzt",
  "rewards.title": "Prämien",
  "rewards.redeem": "Für {0} einlösen",
  "rewards.short": "Dir fehlen noch {0}",
  "rewards.stock": "Noch {0} verfügbar",
  "rewards.done": "Eingelöst: {0}. Zeig den Gutschein an der Kasse.",
  "vouchers.title": "Deine Gutscheine",
  "vouchers.none": "Noch keine Gutscheine.",
  "vouchers.until": "Gültig bis {0}",
  "vouchers.redeemed": "Eingelöst am {0}",
  "vouchers.expired": "Abgelaufen",
  "vouchers.barcode": "Gutschein-Barcode {0}",
  "challenges.title": "Challenges",
  "challenges.none": "Gerade gibt es keine Challenges.",
  "challenges.activate": "Mitmachen",
  "challenges.active": "Aktiv",
  "challenges.available": "Verfügbar",
  "challenges.completed": "Geschafft",
  "challenges.ended": "Beendet",
  "challenges.bonus": "+{0} Bonus",
  "challenges.until": "bis {0}",
  "activity.title": "Verlauf",
  "activity.none": "Noch keine Buchungen.",
  "activity.more": "Mehr laden",
  "me.title": "Ich",
  "me.consents": "Einwilligungen",
  "me.consentsHelp": "Du kannst jede Einwilligung jederzeit widerrufen. Jede Änderung wird dokumentiert.",
  "me.export": "Meine Daten exportieren",
  "me.exportHelp": "Lädt alles, was wir über dich speichern, als JSON-Datei herunter.",
  "me.exported": "Export heruntergeladen ({0} Bytes).",
  "me.delete": "Konto löschen",
  "me.deleteHelp": "Löscht deine persönlichen Daten. Dein Guthaben verfällt, offene Gutscheine werden ungültig.",
  "me.deleteConfirm": "Konto wirklich löschen? Das kann nicht rückgängig gemacht werden.",
  "me.deleted": "Dein Konto wurde gelöscht.",
  "consent.1": "Push-Nachrichten zu deinen Buchungen",
  "consent.2": "Werbung per Push",
  "consent.3": "Persönliche Angebote aus deinen Einkäufen",
  "consent.4": "Geburtstag speichern (für den Geburtstagsbonus)",
  "consent.5": "Name und E-Mail speichern",
  "live.earned": "+{0} – dein Guthaben ist jetzt {1}",
  "err.generic": "Das hat nicht geklappt: {0}",
  "err.unauthenticated": "Bitte melde dich erneut an.",
  "err.permission_denied": "Dafür fehlt die Berechtigung.",
  "err.not_found": "Nicht gefunden.",
  "err.failed_precondition": "Das geht gerade nicht: {0}",
  "err.invalid_argument": "Bitte prüf deine Eingabe: {0}",
  "err.resource_exhausted": "Zu viele Anfragen – bitte kurz warten.",
  "err.unavailable": "Der Dienst ist gerade nicht erreichbar. Bitte versuch es gleich noch einmal.",
  "err.already_exists": "Das wurde schon erledigt.",
  "err.deadline_exceeded": "Das hat zu lange gedauert. Bitte versuch es noch einmal.",
  "till.title": "Kasse (Simulator)",
  "till.key": "API-Schlüssel der Kasse",
  "till.card": "Kartennummer oder gescannter Code",
  "till.scan": "Scannen",
  "till.scanStop": "Scan beenden",
  "till.noCamera": "Kein Kamera-Scan in diesem Browser – bitte die Nummer eintippen.",
  "till.lookup": "Mitglied suchen",
  "till.member": "{0}: {1} {2} (verfügbar {3}), Stufe {4}",
  "till.purchase": "Einkauf",
  "till.amount": "Betrag (€)",
  "till.items": "Artikel",
  "till.receipt": "Bon-Nr.",
  "till.earn": "Buchen",
  "till.earned": "Bon {0}: +{1} Punkte, Guthaben {2}",
  "till.pay": "Mit Punkten bezahlen",
  "till.points": "Punkte",
  "till.hold": "Reservieren",
  "till.held": "{0} Punkte reserviert, verfügbar noch {1}",
  "till.capture": "Abbuchen",
  "till.captured": "{0} Punkte abgebucht, Guthaben {1}",
  "till.release": "Freigeben",
  "till.released": "Reservierung freigegeben",
  "till.return": "Rückgabe",
  "till.returnAmount": "Betrag (€, leer = alles)",
  "till.reverse": "Zurückbuchen",
  "till.reversed": "{0} Punkte zurückgebucht, Guthaben {1}",
  "till.unrecovered": "{0} Punkte waren schon ausgegeben",
  "till.voucher": "Gutschein einlösen",
  "till.code": "Gutscheincode",
  "till.redeem": "Einlösen",
  "till.redeemed": "Gutschein {0} eingelöst: {1}",
  "till.journal": "Journal",
  "till.badAmount": "Bitte einen Betrag wie 12,50 eingeben.",
  "till.badPoints": "Bitte eine Punktzahl größer als 0 eingeben.",
  "till.needCard": "Bitte eine Kartennummer eingeben.",
  "till.needHold": "Erst Punkte reservieren.",
  "till.badKey": "Der API-Schlüssel der Kasse wurde nicht angenommen.",
};

type Key = keyof typeof de;

const en: Record<Key, string> = {
  "app.title": "Treue",
  "lang.switch": "Deutsch",
  "net.offline": "Offline – we reconnect as soon as the network is back.",
  "net.reconnecting": "Connection lost – trying again …",
  "signin.title": "Sign in",
  "signin.dev": "Development mode: sign in with any name.",
  "signin.uid": "User ID",
  "signin.submit": "Sign in",
  "signin.email": "Email",
  "signin.password": "Password",
  "signin.create": "Create account",
  "signin.firebase": "Sign in with email",
  "signin.none": "Sign-in is not set up on this server.",
  "signin.badUid": "The ID needs 1 to 128 characters without spaces.",
  "signout": "Sign out",
  "tab.card": "Card",
  "tab.rewards": "Rewards",
  "tab.challenges": "Challenges",
  "tab.activity": "Activity",
  "tab.me": "Me",
  "card.balance": "Balance",
  "card.available": "Available: {0}",
  "card.pending": "Not yet available: {0}",
  "card.expiry": "{0} expire on {1}",
  "card.noExpiry": "No points expire soon.",
  "card.tier": "Tier",
  "card.top": "Top tier reached",
  "card.number": "Card number",
  "card.barcode": "Your card's barcode",
  "card.qr": "QR code",
  "card.linear": "Barcode",
  "card.live": "Live",
  "wallet.apple": "Add to Apple Wallet",
  "wallet.google": "Save to Google Wallet",
  "wallet.unavailable": "Wallet passes are not set up on this server.",
  "wallet.dev": "Development pass – for testing only.",
  "home.challenges": "Your challenges",
  "home.stamps": "Stamp cards",
  "home.recent": "Recent",
  "rewards.title": "Rewards",
  "rewards.redeem": "Redeem for {0}",
  "rewards.short": "{0} to go",
  "rewards.stock": "{0} left",
  "rewards.done": "Redeemed: {0}. Show the voucher at the till.",
  "vouchers.title": "Your vouchers",
  "vouchers.none": "No vouchers yet.",
  "vouchers.until": "Valid until {0}",
  "vouchers.redeemed": "Redeemed on {0}",
  "vouchers.expired": "Expired",
  "vouchers.barcode": "Voucher barcode {0}",
  "challenges.title": "Challenges",
  "challenges.none": "No challenges right now.",
  "challenges.activate": "Join",
  "challenges.active": "Active",
  "challenges.available": "Available",
  "challenges.completed": "Completed",
  "challenges.ended": "Ended",
  "challenges.bonus": "+{0} bonus",
  "challenges.until": "until {0}",
  "activity.title": "Activity",
  "activity.none": "No entries yet.",
  "activity.more": "Load more",
  "me.title": "Me",
  "me.consents": "Consents",
  "me.consentsHelp": "You can withdraw any consent at any time. Every change is recorded.",
  "me.export": "Export my data",
  "me.exportHelp": "Downloads everything we keep about you as a JSON file.",
  "me.exported": "Export downloaded ({0} bytes).",
  "me.delete": "Delete my account",
  "me.deleteHelp": "Deletes your personal data. Your balance is lost and open vouchers become void.",
  "me.deleteConfirm": "Really delete your account? This cannot be undone.",
  "me.deleted": "Your account was deleted.",
  "consent.1": "Push messages about your points",
  "consent.2": "Marketing push messages",
  "consent.3": "Personal offers from your purchases",
  "consent.4": "Keep my birthday (for the birthday bonus)",
  "consent.5": "Keep my name and email",
  "live.earned": "+{0} – your balance is now {1}",
  "err.generic": "That did not work: {0}",
  "err.unauthenticated": "Please sign in again.",
  "err.permission_denied": "You are not allowed to do that.",
  "err.not_found": "Not found.",
  "err.failed_precondition": "Not possible right now: {0}",
  "err.invalid_argument": "Please check your input: {0}",
  "err.resource_exhausted": "Too many requests – please wait a moment.",
  "err.unavailable": "The service is unreachable right now. Please try again shortly.",
  "err.already_exists": "That was done already.",
  "err.deadline_exceeded": "That took too long. Please try again.",
  "till.title": "Till (simulator)",
  "till.key": "Till API key",
  "till.card": "Card number or scanned code",
  "till.scan": "Scan",
  "till.scanStop": "Stop scanning",
  "till.noCamera": "No camera scanning in this browser – please type the number.",
  "till.lookup": "Look up member",
  "till.member": "{0}: {1} {2} (available {3}), tier {4}",
  "till.purchase": "Purchase",
  "till.amount": "Amount (€)",
  "till.items": "Items",
  "till.receipt": "Receipt no.",
  "till.earn": "Post",
  "till.earned": "Receipt {0}: +{1} points, balance {2}",
  "till.pay": "Pay with points",
  "till.points": "Points",
  "till.hold": "Reserve",
  "till.held": "{0} points reserved, {1} still available",
  "till.capture": "Capture",
  "till.captured": "{0} points spent, balance {1}",
  "till.release": "Release",
  "till.released": "Reservation released",
  "till.return": "Return",
  "till.returnAmount": "Amount (€, empty = all)",
  "till.reverse": "Post return",
  "till.reversed": "{0} points taken back, balance {1}",
  "till.unrecovered": "{0} points had been spent already",
  "till.voucher": "Redeem a voucher",
  "till.code": "Voucher code",
  "till.redeem": "Redeem",
  "till.redeemed": "Voucher {0} redeemed: {1}",
  "till.journal": "Journal",
  "till.badAmount": "Please enter an amount such as 12.50.",
  "till.badPoints": "Please enter a number of points above 0.",
  "till.needCard": "Please enter a card number.",
  "till.needHold": "Reserve points first.",
  "till.badKey": "The till's API key was not accepted.",
};

const texts: Record<Lang, Record<Key, string>> = { de, en };
const langKey = "treue.lang";

/** currentLang returns the chosen language, else the browser's, else German. */
export function currentLang(): Lang {
  const stored = localStorage.getItem(langKey);
  if (stored === "de" || stored === "en") return stored;
  return navigator.language?.toLowerCase().startsWith("en") ? "en" : "de";
}

/** setLang stores the chosen language. */
export function setLang(l: Lang): void {
  localStorage.setItem(langKey, l);
  document.documentElement.lang = l;
}

/** t returns the text of key in lang with {0}, {1}, … filled in. */
export function t(lang: Lang, key: Key, ...args: (string | number | bigint)[]): string {
  return texts[lang][key].replace(/\{(\d)\}/g, (_, i: string) => String(args[Number(i)] ?? ""));
}

/** errorText returns a sentence for a failed call, in lang. */
export function errorText(lang: Lang, err: unknown): string {
  const ce = ConnectError.from(err);
  const detail = ce.rawMessage;
  switch (ce.code) {
    case Code.Unauthenticated:
      return t(lang, "err.unauthenticated");
    case Code.PermissionDenied:
      return t(lang, "err.permission_denied");
    case Code.NotFound:
      return `${t(lang, "err.not_found")} ${detail}`;
    case Code.FailedPrecondition:
      return t(lang, "err.failed_precondition", detail);
    case Code.InvalidArgument:
      return t(lang, "err.invalid_argument", detail);
    case Code.ResourceExhausted:
      return t(lang, "err.resource_exhausted");
    case Code.Unavailable:
      return t(lang, "err.unavailable");
    case Code.AlreadyExists:
      return `${t(lang, "err.already_exists")} ${detail}`;
    case Code.DeadlineExceeded:
      return t(lang, "err.deadline_exceeded");
    default:
      return t(lang, "err.generic", detail);
  }
}
