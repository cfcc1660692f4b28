// One session per account: an account is claimed on login and released when its client is back in
// the lobby or gone.

/** Accounts logged in on some connection, so that one account has one session at a time. */
export class Sessions {
  private readonly userIds = new Set<number>();

  /** Claims the account; false when it is already in use. */
  claim(userId: number): boolean {
    if (this.userIds.has(userId)) return false;
    this.userIds.add(userId);
    return true;
  }

  release(userId: number): void {
    this.userIds.delete(userId);
  }
}
