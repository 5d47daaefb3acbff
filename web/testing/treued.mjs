// startTreued builds treued (or uses the binary TREUE_TEST_TREUED names)
// and starts it in dev mode on a free loopback port with its own SQLite
// data directory, for the Node tests of the TypeScript client and the web
// app. stop() ends it with SIGTERM and removes the directory, unless
// TREUE_TEST_KEEP is set: then the data and log (treued.log) stay.

import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * startTreued returns { baseUrl, proc, log, dir, stop } for a running
 * treued started with extraArgs after the defaults and env added to this
 * process's environment.
 */
export async function startTreued(name, extraArgs = [], env = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `treue-${name}-`));
  let bin = process.env.TREUE_TEST_TREUED;
  if (!bin) {
    bin = path.join(dir, "treued");
    await promisify(execFile)("go", ["build", "-o", bin, "./cmd/treued"], { cwd: repo, maxBuffer: 16 << 20 });
  }
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const proc = spawn(
    bin,
    ["-addr", addr, "-data-dir", path.join(dir, "data"), "-dev", "true", "-log-level", "warn", ...extraArgs],
    { cwd: dir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const log = [];
  for (const s of [proc.stdout, proc.stderr]) {
    s.setEncoding("utf8");
    s.on("data", (d) => log.push(d));
  }
  // Never leave a treued behind, whatever ends this process.
  process.on("exit", () => proc.kill("SIGKILL"));
  await waitListening(proc, port, log);
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      console.log(`treued exited early (${proc.exitCode ?? proc.signalCode}); its log:\n${log.join("")}`);
    } else {
      const exited = new Promise((resolve) => proc.once("exit", resolve));
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (process.env.TREUE_TEST_KEEP) {
      await writeFile(path.join(dir, "treued.log"), log.join(""));
      console.log(`treued's data and log (treued.log) kept in ${dir}`);
    } else {
      await rm(dir, { recursive: true, force: true });
    }
  };
  return { baseUrl: `http://${addr}`, proc, log, dir, stop };
}

/** freePort returns a TCP port free on 127.0.0.1 just now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitListening(proc, port, log) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`treued exited (${proc.exitCode ?? proc.signalCode}):\n${log.join("")}`);
    }
    const ok = await new Promise((resolve) => {
      const sock = net.connect(port, "127.0.0.1");
      sock.once("connect", () => (sock.destroy(), resolve(true)));
      sock.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) {
      throw new Error(`treued is not listening on ${port} after 60 s:\n${log.join("")}`);
    }
    await sleep(100);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
