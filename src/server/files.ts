// The files a start needs besides the database: the TLS certificate and key, and the HTML5 export.
// A missing or unusable one stops the start with a clear error (no silent plain HTTP).
import { readFileSync } from "node:fs";
import { ConfigError, type Config } from "../config.ts";
import { ClientFiles } from "../http/client-files.ts";
import { errorText } from "../log.ts";

export function loadTls(config: Config): { cert: string; key: string } | undefined {
  if (!config.cert) return undefined;
  const read = (path: string, what: string) => {
    try {
      const pem = readFileSync(path, "utf8");
      if (!pem.includes("-----BEGIN")) throw new Error("not a PEM file");
      return pem;
    } catch (err) {
      throw new ConfigError(`cannot use the TLS ${what} ${path}: ${errorText(err)}`);
    }
  };
  return { cert: read(config.cert, "certificate"), key: read(config.key, "key") };
}

export function loadClientFiles(config: Config): ClientFiles | undefined {
  if (!config.clientPath) return undefined;
  try {
    return new ClientFiles(config.clientPath);
  } catch (err) {
    throw new ConfigError(`cannot serve the client export ${config.clientPath}: ${errorText(err)}`);
  }
}
