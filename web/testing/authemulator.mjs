// startAuthEmulator starts the Firebase Auth emulator of node_modules
// (firebase-tools, offline, no Java) on free loopback ports for a "demo-"
// project and returns { host, projectId, stop }. It usually takes 10 to 35
// seconds on two busy cores.

import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { freePort, repo, sleep } from "./treued.mjs";

const projectId = "demo-test";
const startTimeout = 90_000;

export async function startAuthEmulator() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "treue-auth-emulator-"));
  const [auth, hub, logging] = await Promise.all([freePort(), freePort(), freePort()]);
  const at = (port) => ({ host: "127.0.0.1", port });
  const config = path.join(dir, "firebase.json");
  await writeFile(config, JSON.stringify({
    emulators: { auth: at(auth), hub: at(hub), logging: at(logging), ui: { enabled: false }, singleProjectMode: true },
  }));
  // The CLI writes its log to its working directory, its settings under
  // HOME and the hub's locator file to TMPDIR, and asks npm for updates
  // unless told not to.
  const proc = spawn(
    path.join(repo, "node_modules/.bin/firebase"),
    ["emulators:start", "--only", "auth", "--project", projectId, "--config", config],
    {
      cwd: dir,
      detached: true,
      env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: path.join(dir, ".config"), TMPDIR: dir, NO_UPDATE_NOTIFIER: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const log = [];
  for (const s of [proc.stdout, proc.stderr]) {
    s.setEncoding("utf8");
    s.on("data", (d) => log.push(d));
  }
  // The CLI starts the emulator as a child: end the whole process group.
  const kill = (sig) => {
    try {
      process.kill(-proc.pid, sig);
    } catch {
      // already gone
    }
  };
  process.on("exit", () => kill("SIGKILL"));
  const host = `127.0.0.1:${auth}`;
  const deadline = Date.now() + startTimeout;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the Auth emulator exited (${proc.exitCode}):\n${log.join("")}`);
    try {
      if ((await fetch(`http://${host}/`)).ok) break;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) {
      kill("SIGKILL");
      throw new Error(`the Auth emulator is not ready after ${startTimeout / 1000} s:\n${log.join("")}`);
    }
    await sleep(200);
  }
  const stop = async () => {
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    kill("SIGTERM");
    const timer = setTimeout(() => kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
    await rm(dir, { recursive: true, force: true });
  };
  return { host, projectId, stop };
}
