// The customer's sign-in: a development token ("dev:<uid>", dev mode only)
// or Firebase email and password through the Identity Toolkit REST API,
// the same one the Firebase SDKs use (and the Auth emulator serves).

import type { WebConfig } from "./api.js";

const storageKey = "treue.session";

/** Session is a signed-in customer. */
export type Session =
  | { kind: "dev"; uid: string }
  | { kind: "firebase"; email: string; idToken: string; refreshToken: string; expiresAt: number };

/** SignInError is a refusal from Firebase, with its code (e.g. INVALID_LOGIN_CREDENTIALS). */
export class SignInError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/** loadSession returns the stored session, or undefined. */
export function loadSession(): Session | undefined {
  try {
    const s = JSON.parse(localStorage.getItem(storageKey) ?? "null") as Session | null;
    return s && (s.kind === "dev" || s.kind === "firebase") ? s : undefined;
  } catch {
    return undefined;
  }
}

/** saveSession stores s, or forgets the session when s is undefined. */
export function saveSession(s: Session | undefined): void {
  if (s) localStorage.setItem(storageKey, JSON.stringify(s));
  else localStorage.removeItem(storageKey);
}

/** validDevUID reports whether uid is accepted as a dev token's uid. */
export function validDevUID(uid: string): boolean {
  return /^[^\s]{1,128}$/.test(uid);
}

/**
 * tokenOf returns the bearer token of s, refreshing a Firebase ID token
 * that expires within a minute (and storing the new one).
 */
export async function tokenOf(s: Session, cfg: WebConfig): Promise<string> {
  if (s.kind === "dev") return `dev:${s.uid}`;
  if (Date.now() < s.expiresAt - 60_000) return s.idToken;
  const fb = firebase(cfg);
  const res = await post(`${fb.secureToken}/v1/token?key=${encodeURIComponent(fb.apiKey)}`, {
    grant_type: "refresh_token",
    refresh_token: s.refreshToken,
  });
  s.idToken = String(res.id_token);
  s.refreshToken = String(res.refresh_token);
  s.expiresAt = Date.now() + Number(res.expires_in) * 1000;
  saveSession(s);
  return s.idToken;
}

/**
 * firebaseSignIn signs in with email and password (or signs up a new
 * account when create is set) and returns the session. It throws a
 * SignInError with Firebase's code when Firebase refuses.
 */
export async function firebaseSignIn(cfg: WebConfig, email: string, password: string, create: boolean): Promise<Session> {
  const fb = firebase(cfg);
  const op = create ? "signUp" : "signInWithPassword";
  const res = await post(`${fb.identity}/v1/accounts:${op}?key=${encodeURIComponent(fb.apiKey)}`, {
    email,
    password,
    returnSecureToken: true,
  });
  return {
    kind: "firebase",
    email: String(res.email ?? email),
    idToken: String(res.idToken),
    refreshToken: String(res.refreshToken),
    expiresAt: Date.now() + Number(res.expiresIn ?? 3600) * 1000,
  };
}

function firebase(cfg: WebConfig) {
  if (!cfg.firebase) throw new SignInError("FIREBASE_NOT_CONFIGURED");
  const base = cfg.firebase.auth_emulator;
  return {
    apiKey: cfg.firebase.api_key,
    identity: base ? `${base}/identitytoolkit.googleapis.com` : "https://identitytoolkit.googleapis.com",
    secureToken: base ? `${base}/securetoken.googleapis.com` : "https://securetoken.googleapis.com",
  };
}

async function post(url: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown> & { error?: { message?: string } };
  if (!res.ok) throw new SignInError(String(json.error?.message ?? `HTTP_${res.status}`).split(" ")[0]);
  return json;
}
