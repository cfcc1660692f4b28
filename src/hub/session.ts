// A client's resumable session, as the client and the resumption (resume.ts) both hold it: its token's
// key, the topics to subscribe a new socket to, and, while its connection is gone, what is kept for it.

/** What a held session keeps, and until when it is held. */
export class HeldSession {
  readonly kept: Uint8Array[] = [];
  bytes = 0;
  overflowed = false;
  /**
   * Moving to another node (the cluster, see resume-link.ts): `cutSent` once this node has sent the
   * cut, from when what it says itself is the new node's to keep; `arriving` on the new node until
   * the old one's kept packets arrive. Either way the grace no longer runs out: the move times out.
   */
  moving: { cutSent: boolean; since: number } | undefined;
  arriving: { freshId: number } | undefined;

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
