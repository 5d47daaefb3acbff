// The typed clients of the Treue API, over Connect (binary) from the page's
// own origin, and the server's settings for the web app.

import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";

import { AccountService } from "../gen/treue/v1/account_service_pb.js";
import { AppService } from "../gen/treue/v1/app_service_pb.js";
import { CardService } from "../gen/treue/v1/card_service_pb.js";
import { ChallengeService } from "../gen/treue/v1/challenge_service_pb.js";
import { PosService } from "../gen/treue/v1/pos_service_pb.js";
import { PrivacyService } from "../gen/treue/v1/privacy_service_pb.js";
import { RewardService } from "../gen/treue/v1/reward_service_pb.js";
import { WalletService } from "../gen/treue/v1/wallet_service_pb.js";

/** WebConfig is what treued tells the web app, in the page and at /web/config.json. */
export interface WebConfig {
  /** Development sign-in ("dev:<uid>") is on. */
  dev: boolean;
  /** The demo tills' API key, in dev mode only. */
  till_key?: string;
  /** Firebase email sign-in, when treued is configured for it. */
  firebase?: {
    api_key: string;
    project_id: string;
    /** The Auth emulator's origin, e.g. "http://127.0.0.1:9099", in dev mode only. */
    auth_emulator?: string;
  };
}

/**
 * loadConfig returns the server's settings for the web app: those treued
 * wrote into the page (saving a round trip before the first call), else
 * those at /web/config.json.
 */
export async function loadConfig(): Promise<WebConfig> {
  const inline = document.querySelector<HTMLMetaElement>('meta[name="treue-config"]')?.content;
  if (inline && inline !== "{}") return JSON.parse(inline) as WebConfig;
  const res = await fetch("/web/config.json", { cache: "no-store" });
  if (!res.ok) throw new ConnectError(`config: HTTP ${res.status}`, Code.Unavailable);
  return (await res.json()) as WebConfig;
}

/** bearer returns an interceptor that signs every call with token(). */
function bearer(token: () => Promise<string>): Interceptor {
  return (next) => async (req) => {
    req.header.set("Authorization", `Bearer ${await token()}`);
    return next(req);
  };
}

function transport(token: () => Promise<string>) {
  return createConnectTransport({
    baseUrl: location.origin,
    useBinaryFormat: true,
    interceptors: [bearer(token)],
  });
}

/** CustomerClients are the services the customer app calls. */
export interface CustomerClients {
  account: Client<typeof AccountService>;
  app: Client<typeof AppService>;
  card: Client<typeof CardService>;
  challenge: Client<typeof ChallengeService>;
  privacy: Client<typeof PrivacyService>;
  reward: Client<typeof RewardService>;
  wallet: Client<typeof WalletService>;
}

/** customerClients returns the customer's clients, signed with token(). */
export function customerClients(token: () => Promise<string>): CustomerClients {
  const t = transport(token);
  return {
    account: createClient(AccountService, t),
    app: createClient(AppService, t),
    card: createClient(CardService, t),
    challenge: createClient(ChallengeService, t),
    privacy: createClient(PrivacyService, t),
    reward: createClient(RewardService, t),
    wallet: createClient(WalletService, t),
  };
}

/** tillClient returns the till's client, signed with its API key. */
export function tillClient(key: () => string): Client<typeof PosService> {
  return createClient(PosService, transport(async () => key()));
}

/** newKey returns a fresh idempotency key. */
export function newKey(prefix: string): string {
  const id = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return `${prefix}-${id}`;
}
