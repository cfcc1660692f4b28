// Database URLs in what the server prints: never with their password.

/** The URL with its password replaced by `***`, for logs and --print-config. */
export function maskUrl(url: string): string {
  if (url === "") return url;
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(an unparsable URL)";
  }
}

/** `host:port/database` of a URL, to name it in an error. */
export function urlTarget(url: string, defaultPort = 5432): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || defaultPort}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "(an unparsable URL)";
  }
}
