// Password hashing off the event loop (Bun.password's async API runs on a worker thread).
// New hashes are argon2id with OWASP's recommended cost (19 MiB, 2 passes); verification also takes
// the series' bcrypt ($2a$) hashes, so its users log in as they are.

/** bcrypt ignores bytes past 72 and the series' Go server refuses them; so do we, for every hash. */
export const MAX_PASSWORD_BYTES = 72;

export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 });
}

// Verified when the user does not exist, so that an unknown name takes as long as a wrong password.
// Made on first need, not at start: the server should be listening within milliseconds.
let dummyHash: Promise<string> | undefined;

export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  if (hash === undefined) {
    await Bun.password.verify(password, await (dummyHash ??= hashPassword("not a password of anyone")));
    return false;
  }
  try {
    return await Bun.password.verify(password, hash);
  } catch {
    // A hash in a format Bun does not know: treat as a wrong password, never as a crash.
    return false;
  }
}
