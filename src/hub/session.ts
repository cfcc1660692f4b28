// A client's resumable session, as the client and the resumption (resume.ts) both hold it: its token's
// key, the topics to subscribe a new socket to, and, while its connection is gone, what is kept for it.

/** What a held session keeps, and until when it is held. */
export class HeldSession {
  readonly kept: Uint8Array[] = [];
  bytes = 0;
  overflowed = false;
  /**
   * In transit between the nodes of a cluster (resume-link.ts): `leaving` on the node it moves from,
   * once the cut is sent (what this node says itself from then on is the new node's to keep); on the
   * node it moves to until the old one's kept packets arrive. The grace no longer runs out: the move
   * finishes, or is given up (resume.ts's sweep ends one still in transit after MOVE_TIMEOUT_MS × 2).
   */
  transit: { leaving: boolean; since: number } | undefined;

  constructor(readonly until: number) {}
}

/** The resumable part of a client: made when it asks for a token, so that a client that never asks carries none. */
export class ResumableSession {
  /** The topics the client's socket is subscribed to, to subscribe a new socket to after a resume. */
  readonly topics = new Set<string>();
  held: HeldSession | undefined;
  /** The session was continued through its token (a bearer credential): a password login may take the account back. */
  viaToken = false;

  /** The token's key (tokenKey): the token itself is given to the client and kept nowhere. */
  constructor(public token: string) {}
}
