// Running it for real: the config file, TLS, serving the HTML5 export, health, metrics and logs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ConfigError, parseCommandLine } from "../src/config.ts";
import { startServerProcess } from "../src/testing/server-process.ts";
import { newChat } from "../src/packets/index.ts";
import { login, register, radiusRumble, startTestServer, TestClient, waitFor, type TestServer } from "./helpers.ts";

const MAIN = join(import.meta.dir, "..", "src", "main.ts");
const work = mkdtempSync(join(tmpdir(), "mmo-deploy-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  const r = Bun.spawnSync([process.execPath, MAIN, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

describe("configuration", () => {
  const file = join(work, "server.env");
  writeFileSync(
    file,
    ["# the series' .env keys, and ours", "PORT=8081", `DATA_PATH="${join(work, "data")}"`, "export MMO_MAX_CLIENTS=42 # inline comment", "MMO_RATE_LIMIT=7", "NOT_AN_OPTION=1", ""].join("\n"),
  );

  test("flag > environment > config file > default, and where each came from", () => {
    const parsed = parseCommandLine(["--config", file, "--rate-limit", "9"], { MMO_MAX_CLIENTS: "55" });
    if (parsed.kind !== "run") throw new Error("expected a run");
    expect(parsed.config.port).toBe(8081);
    expect(parsed.config.dataDir).toBe(join(work, "data"));
    expect(parsed.config.maxClients).toBe(55);
    expect(parsed.config.rateLimit).toBe(9);
    expect(parsed.config.rateBurst).toBe(200);
    expect(parsed.sources.port).toBe(`${file}:2`);
    expect(parsed.sources.maxClients).toBe("environment MMO_MAX_CLIENTS");
    expect(parsed.sources.rateLimit).toBe("flag --rate-limit");
    expect(parsed.sources.rateBurst).toBe("default");
    expect(parsed.warnings).toEqual([`${file}:6: unknown key NOT_AN_OPTION is ignored`]);
  });

  test("--print-config prints the effective options with their sources", () => {
    const { code, out } = run(["--config", file, "--print-config"], { MMO_RATE_BURST: "11" });
    expect(code).toBe(0);
    expect(out).toMatch(/^port\s+8081\s+\(.*server\.env:2\)$/m);
    expect(out).toMatch(/^rate-burst\s+11\s+\(environment MMO_RATE_BURST\)$/m);
    expect(out).toMatch(/^host\s+"0\.0\.0\.0"\s+\(default\)$/m);
  });

  test("an invalid value stops the start with one line and exit code 2", () => {
    const bad = join(work, "bad.env");
    writeFileSync(bad, "PORT=eighty\n");
    const { code, err } = run(["--config", bad]);
    expect(code).toBe(2);
    expect(err.trim().split("\n")).toHaveLength(1);
    expect(err).toContain("PORT in");
    expect(run(["--config", join(work, "missing.env")]).err).toContain("cannot read the config file");
    expect(() => parseCommandLine(["--cert", "c.pem"], {})).toThrow(ConfigError);
  });
});

describe("TLS", () => {
  const cert = join(work, "cert.pem");
  const key = join(work, "key.pem");
  beforeAll(async () => {
    const made = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"], { stderr: "pipe" });
    if (made.exitCode !== 0) throw new Error(`openssl failed: ${made.stderr}`);
  });

  test("--cert and --key serve https and wss on the same port", async () => {
    const srv = await startTestServer(radiusRumble, { cert, key });
    try {
      const res = await fetch(`https://127.0.0.1:${srv.port}/healthz`, { tls: { rejectUnauthorized: false } });
      expect(res.status).toBe(200);
      const wss = `wss://127.0.0.1:${srv.port}/ws`;
      const [a, b] = await Promise.all([1, 2].map(() => TestClient.connect(wss, { tls: { rejectUnauthorized: false } })));
      a!.send(newChat("over tls"));
      expect((await b!.expect("chat")).value.msg).toBe("over tls");
    } finally {
      await srv.stop();
    }
  });

  test("a missing or unreadable certificate stops the start with a clear error, never plain HTTP", () => {
    const missing = run(["--port", "0", "--cert", join(work, "nope.pem"), "--key", key, "--data-dir", join(work, "d1")]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("cannot use the TLS certificate");
    const notPem = join(work, "not.pem");
    writeFileSync(notPem, "hello");
    const garbage = run(["--port", "0", "--cert", cert, "--key", notPem, "--data-dir", join(work, "d2")]);
    expect(garbage.code).toBe(2);
    expect(garbage.err).toContain("cannot use the TLS key");
  });
});

/** Sends one raw HTTP request (no client-side path normalisation) and returns status line and body. */
async function rawGet(port: number, path: string): Promise<{ status: number; text: string }> {
  let text = "";
  const done = Promise.withResolvers<void>();
  await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      open(s) {
        s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      },
      data(_s, chunk) {
        text += chunk.toString();
      },
      close() {
        done.resolve();
      },
    },
  });
  await done.promise;
  return { status: Number(text.split(" ")[1]), text };
}

describe("serving the HTML5 export", () => {
  let srv: TestServer;
  let http: string;
  beforeAll(async () => {
    const root = join(work, "export");
    mkdirSync(join(root, "assets"), { recursive: true });
    writeFileSync(join(root, "index.html"), "<!doctype html><title>game</title>");
    writeFileSync(join(root, "game.wasm"), new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    writeFileSync(join(root, "game.pck"), "GDPC");
    writeFileSync(join(root, "game.js"), "console.log('engine')");
    writeFileSync(join(root, "game.js.gz"), gzipSync("console.log('engine, gzipped')"));
    writeFileSync(join(root, "assets", "index.html"), "assets index");
    writeFileSync(join(work, "secret.txt"), "do not serve");
    symlinkSync(join(work, "secret.txt"), join(root, "link-out.txt"));
    srv = await startTestServer(radiusRumble, { clientPath: root });
    http = `http://127.0.0.1:${srv.port}`;
  });
  afterAll(() => srv.stop());

  test("index.html for /, with the headers threaded web builds need", async () => {
    const res = await fetch(`${http}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("<title>game</title>");
    expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(res.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    expect(res.headers.get("content-type")).toStartWith("text/html");
    expect(await (await fetch(`${http}/assets/`)).text()).toBe("assets index");
  });

  test("the right types for .wasm, .pck and .js", async () => {
    for (const [path, type] of [
      ["/game.wasm", "application/wasm"],
      ["/game.pck", "application/octet-stream"],
      ["/game.js", "text/javascript"],
    ]) {
      const res = await fetch(`${http}${path}`, { headers: { "Accept-Encoding": "identity" } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toStartWith(type!);
      expect(res.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    }
  });

  test("a precompressed variant is served to a client that accepts it", async () => {
    const raw = await rawGet(srv.port, "/game.js");
    expect(raw.text).not.toContain("content-encoding");
    const res = await fetch(`${http}/game.js`, { headers: { "Accept-Encoding": "gzip" } });
    expect(await res.text()).toBe("console.log('engine, gzipped')");
  });

  test("nothing outside the folder: .., encoded %2e%2e, encoded slashes and symlinks", async () => {
    for (const path of ["/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/%2E%2E/secret.txt", "/..%2fsecret.txt", "/assets/..%2f..%2fsecret.txt", "/link-out.txt", "/%00index.html"]) {
      const { status, text } = await rawGet(srv.port, path);
      expect({ path, status }).toEqual({ path, status: 404 });
      expect(text).not.toContain("do not serve");
    }
  });
});

describe("health, metrics and logs", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer(radiusRumble);
  });
  afterAll(() => srv.stop());

  test("GET /healthz: status, uptime, clients, players", async () => {
    const c = await TestClient.connect(srv.url);
    expect(await register(c, "Healthy", "password")).toBe("ok");
    expect(await login(c, "Healthy", "password")).toBe("ok");
    const health = (await (await fetch(`http://127.0.0.1:${srv.port}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: "ok", clients: 1, players: 1 });
    expect(typeof health.uptimeSeconds).toBe("number");
    await c.close();
  });

  test("GET /metrics in the Prometheus text format", async () => {
    const [a, b] = await Promise.all([1, 2].map(() => TestClient.connect(srv.url)));
    a!.send(newChat("counted"));
    await b!.expect("chat");
    a!.sendRaw(new Uint8Array([0xff]));
    expect(await login(b!, "nobody", "x")).not.toBe("ok");
    await Bun.sleep(120);
    const res = await fetch(`http://127.0.0.1:${srv.port}/metrics`);
    expect(res.headers.get("content-type")).toStartWith("text/plain");
    const text = await res.text();
    expect(text).toMatch(/^mmo_clients 2$/m);
    expect(text).toMatch(/^mmo_messages_in_total\{kind="chat"\} [1-9]/m);
    expect(text).toMatch(/^mmo_messages_out_total\{kind="id"\} [1-9]/m);
    expect(text).toMatch(/^mmo_dropped_total\{cause="malformed"\} 1$/m);
    expect(text).toMatch(/^mmo_logins_total\{outcome="ok"\} 1$/m);
    expect(text).toMatch(/^mmo_logins_total\{outcome="bad_credentials"\} 1$/m);
    expect(text).toMatch(/^mmo_registrations_total\{outcome="ok"\} 1$/m);
    expect(text).toMatch(/^mmo_closes_total\{code="normal"\} 1$/m);
    expect(text).toMatch(/^mmo_world_tick_seconds_bucket\{le="0.01"\} [1-9]/m);
    expect(text).toMatch(/^# TYPE mmo_world_tick_seconds histogram$/m);
  });

  test("close codes that clients choose do not become label values: the standard ones by name, the rest as other", async () => {
    const clients = await Promise.all(Array.from({ length: 40 }, () => TestClient.connect(srv.url)));
    await Promise.all(clients.map((c, i) => c.close(i < 20 ? 3000 + i : 4000 + i)));
    await waitFor(async () => /^mmo_closes_total\{code="other"\} 40$/m.test(await (await fetch(`http://127.0.0.1:${srv.port}/metrics`)).text()), 3000, "40 closes as other");
    const text = await (await fetch(`http://127.0.0.1:${srv.port}/metrics`)).text();
    expect(text.match(/^mmo_closes_total\{/gm)!.length).toBeLessThanOrEqual(3);
    expect(text).not.toMatch(/code="[34]\d{3}"/);
  });

  test("--log-format json writes one JSON object a line; text keeps the series' lines", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmo-json-log-"));
    const json = await startServerProcess([process.execPath, join(import.meta.dir, "..", "src", "main.ts")], ["--log-format", "json", "--data-dir", dir]);
    try {
      const c = await TestClient.connect(json.url);
      await c.close();
      await waitFor(() => json.lines.some((l) => l.includes("Switching from state None to Connected")), 3000, "the client's first line");
      // Every line, the start's included, is one JSON object with its time, level and message.
      expect(json.lines.length).toBeGreaterThan(2);
      for (const line of json.lines) expect(Object.keys(JSON.parse(line) as object)).toEqual(["time", "level", "msg"]);
      const entry = json.lines.map((l) => JSON.parse(l) as { level: string; msg: string }).find((e) => e.msg.endsWith("Switching from state None to Connected"));
      expect(entry).toMatchObject({ level: "info", msg: `Client ${c.id}: Switching from state None to Connected` });
    } finally {
      await json.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(srv.logs.lines.some((l) => /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d Client \d+: Switching from state None to Connected$/.test(l))).toBe(true);
  });

});

describe("behind a reverse proxy, and who may read /metrics and /dashboard", () => {
  /** A WebSocket to the server as a proxy would open it, naming the client in X-Forwarded-For. */
  function viaProxy(srv: TestServer, forwardedFor: string): Promise<{ ok: boolean; status?: number }> {
    return new Promise((resolve) => {
      const ws = new WebSocket(srv.url, { headers: { "X-Forwarded-For": forwardedFor } } as unknown as string[]);
      ws.onopen = () => resolve({ ok: true });
      ws.onerror = () => resolve({ ok: false });
    });
  }

  test("--trust-proxy: the client's address is the right-most untrusted hop, used by the per-address limit and the logs; from others the header is ignored", async () => {
    const srv = await startTestServer(radiusRumble, { trustProxy: ["127.0.0.1", "10.0.0.0/8"], maxClientsPerIp: 1 });
    try {
      // Behind two proxies (10.1.2.3, then 127.0.0.1): a forged left-most entry changes nothing.
      expect((await viaProxy(srv, "6.6.6.6, 198.51.100.7, 10.1.2.3")).ok).toBe(true);
      expect((await viaProxy(srv, "198.51.100.8")).ok).toBe(true);
      expect((await viaProxy(srv, "1.1.1.1, 198.51.100.7")).ok).toBe(false);
      expect(srv.logs.has("Refused a connection from 198.51.100.7: Too many connections from 198.51.100.7")).toBe(true);
      expect(srv.logs.has("New client connected from 198.51.100.8")).toBe(true);
    } finally {
      await srv.stop();
    }
    const direct = await startTestServer(radiusRumble, { maxClientsPerIp: 1 });
    try {
      expect((await viaProxy(direct, "198.51.100.7")).ok).toBe(true);
      expect((await viaProxy(direct, "198.51.100.8")).ok).toBe(false);
      expect(direct.logs.has("Refused a connection from 127.0.0.1")).toBe(true);
    } finally {
      await direct.stop();
    }
  });

  test("without --admin-token, /metrics and /dashboard answer loopback clients only; others get 403 with a hint", async () => {
    const srv = await startTestServer(radiusRumble, { trustProxy: ["127.0.0.1"] });
    try {
      const base = `http://127.0.0.1:${srv.port}`;
      expect((await fetch(`${base}/metrics`)).status).toBe(200);
      for (const path of ["/metrics", "/dashboard", "/dashboard/events"]) {
        const res = await fetch(`${base}${path}`, { headers: { "X-Forwarded-For": "203.0.113.9" } });
        expect(res.status).toBe(403);
        expect(await res.text()).toContain("--admin-token");
      }
      expect((await fetch(`${base}/healthz`, { headers: { "X-Forwarded-For": "203.0.113.9" } })).status).toBe(200);
    } finally {
      await srv.stop();
    }
  });

  test("with --admin-token, /metrics needs the bearer token; the dashboard takes it once and keeps it in a cookie", async () => {
    const token = "correct-horse-battery-staple";
    const srv = await startTestServer(radiusRumble, { adminToken: token });
    try {
      const base = `http://127.0.0.1:${srv.port}`;
      const none = await fetch(`${base}/metrics`);
      expect(none.status).toBe(401);
      expect(none.headers.get("www-authenticate")).toStartWith("Bearer");
      expect((await fetch(`${base}/metrics`, { headers: { Authorization: "Bearer wrong-token-of-some-length" } })).status).toBe(401);
      expect((await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);

      const once = await fetch(`${base}/dashboard?token=${token}`, { redirect: "manual" });
      expect(once.status).toBe(303);
      expect(once.headers.get("location")).toBe("/dashboard");
      const cookie = once.headers.get("set-cookie")!.split(";")[0]!;
      expect(once.headers.get("set-cookie")).toContain("HttpOnly");
      expect((await fetch(`${base}/dashboard`, { headers: { Cookie: cookie } })).status).toBe(200);
      const events = await fetch(`${base}/dashboard/events`, { headers: { Cookie: cookie } });
      expect(events.status).toBe(200);
      await events.body?.cancel();
      expect((await fetch(`${base}/dashboard`)).status).toBe(401);
    } finally {
      await srv.stop();
    }
  });

  test("a bad --trust-proxy entry or a short --admin-token is a configuration error", () => {
    expect(() => parseCommandLine(["--trust-proxy", "10.0.0.0/33"], {})).toThrow(ConfigError);
    expect(() => parseCommandLine(["--trust-proxy", "proxy.example"], {})).toThrow(/not an IP address or CIDR range/);
    expect(() => parseCommandLine(["--admin-token", "short"], {})).toThrow(/at least 16 characters/);
  });
});
