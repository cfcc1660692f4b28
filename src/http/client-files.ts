// Serves a Godot HTML5 export from one folder: the cross-origin isolation headers that threaded web
// builds need (SharedArrayBuffer), the right types for .wasm and .pck, precompressed .br/.gz variants,
// index.html for folders, and nothing from outside the folder (no "..", encoded or not, no symlinks out).
import { realpathSync, statSync } from "node:fs";
import { extname, resolve, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".pck": "application/octet-stream",
  ".json": "application/json",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".txt": "text/plain; charset=utf-8",
  ".wav": "audio/wav",
  ".ogg": "audio/ogg",
  ".mp3": "audio/mpeg",
};

/** The headers that make a page cross-origin isolated, as Godot's threaded web export requires. */
export const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export class ClientFiles {
  readonly root: string;

  /** Throws when `dir` is not a readable folder. */
  constructor(dir: string) {
    this.root = realpathSync(dir);
    if (!statSync(this.root).isDirectory()) throw new Error(`${dir} is not a folder`);
  }

  serve(req: Request, pathname: string): Response {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("Method not allowed\n", { status: 405, headers: { Allow: "GET, HEAD" } });
    }
    const file = this.resolve(pathname);
    if (!file) return new Response("Not found\n", { status: 404 });
    const type = TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
    const accepted = req.headers.get("accept-encoding") ?? "";
    for (const [encoding, suffix] of [
      ["br", ".br"],
      ["gzip", ".gz"],
    ] as const) {
      if (!new RegExp(`\\b${encoding}\\b`).test(accepted)) continue;
      const variant = this.resolve(pathname.endsWith("/") ? `${pathname}index.html${suffix}` : `${pathname}${suffix}`);
      if (variant) return this.respond(variant, type, { "Content-Encoding": encoding });
    }
    return this.respond(file, type, {});
  }

  private respond(path: string, type: string, extra: Record<string, string>): Response {
    return new Response(Bun.file(path), {
      headers: { ...ISOLATION_HEADERS, "Content-Type": type, Vary: "Accept-Encoding", "Cache-Control": "no-cache", ...extra },
    });
  }

  /** The real path of the file the URL path names, or undefined when it is missing or outside the root. */
  private resolve(pathname: string): string | undefined {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return undefined;
    }
    if (decoded.includes("\0")) return undefined;
    if (decoded.endsWith("/")) decoded += "index.html";
    const candidate = resolve(this.root, "." + (decoded.startsWith("/") ? decoded : `/${decoded}`));
    if (!this.inside(candidate)) return undefined;
    try {
      // A symlink may point anywhere: what counts is where it leads.
      const real = realpathSync(candidate);
      if (!this.inside(real) || !statSync(real).isFile()) return undefined;
      return real;
    } catch {
      return undefined;
    }
  }

  private inside(path: string): boolean {
    return path === this.root || path.startsWith(this.root + sep);
  }
}
