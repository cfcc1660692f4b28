// A leaderboard in memory: every record in board order (the better score first, the older owner
// first among equals) in an order-statistic treap, so that an owner's position and the records at
// any position cost O(log n) whatever the rank, where a database counts the rows ahead, O(rank).
// Nodes live in typed arrays (a few dozen bytes a record). A board sorted ascending keeps its scores
// negated, so one comparison serves both orders.

/** One record: its owner (an account's id, which also decides ties: lower first), name and score. */
export interface RankedScore {
  id: number;
  name: string;
  score: number;
}

/** A record at its position: rank from 1. */
export interface RankedEntry {
  rank: number;
  id: number;
  name: string;
  score: number;
}

/** How names are compared in a search: ASCII letters fold, nothing else (as SQL's lower() in SQLite). */
export function foldName(name: string): string {
  return name.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

const NONE = 0;

export class Ranking {
  /** 1: higher scores first; -1: lower first. */
  private readonly sign: number;
  private capacity = 1024;
  private left = new Int32Array(this.capacity);
  private right = new Int32Array(this.capacity);
  private size = new Int32Array(this.capacity);
  private priority = new Float64Array(this.capacity);
  /** The score times sign: higher keys come first. */
  private score = new Float64Array(this.capacity);
  private playerId = new Float64Array(this.capacity);
  /** Per record, the store's count of its writes, last seen here (see leaderboards.ts). */
  private stamp = new Float64Array(this.capacity);
  private readonly names: string[] = [""];
  private root = NONE;
  /** Node 0 is the empty tree; players take nodes from 1. */
  private nodes = 1;
  private readonly nodeOf = new Map<number, number>();
  /** Folded name → the node of the oldest player with it (a series database may hold several). */
  private readonly byName = new Map<string, number>();
  // split()'s two results.
  private splitLeft = NONE;
  private splitRight = NONE;

  constructor(order: "desc" | "asc" = "desc") {
    this.sign = order === "desc" ? 1 : -1;
  }

  /** A ranking of these records, built in O(n log n) (the sort) rather than one insertion each. */
  static of(players: RankedScore[], order: "desc" | "asc" = "desc"): Ranking {
    const ranking = new Ranking(order);
    const sign = ranking.sign;
    const sorted = players.toSorted((a, b) => sign * (b.score - a.score) || a.id - b.id);
    // A Cartesian tree over the sorted players: each new node takes the right spine's nodes of lower
    // priority as its left subtree, then hangs on the spine.
    const spine: number[] = [];
    for (const player of sorted) {
      if (ranking.nodeOf.has(player.id)) continue;
      const node = ranking.newNode(player);
      let last = NONE;
      while (spine.length > 0 && ranking.priority[spine.at(-1)!]! < ranking.priority[node]!) last = spine.pop()!;
      ranking.left[node] = last;
      if (spine.length > 0) ranking.right[spine.at(-1)!] = node;
      spine.push(node);
    }
    ranking.root = spine[0] ?? NONE;
    ranking.resize(ranking.root);
    return ranking;
  }

  get count(): number {
    return this.size[this.root]!;
  }

  /** The owner's score, or undefined when it has no record. */
  scoreOf(id: number): number | undefined {
    const node = this.nodeOf.get(id);
    return node === undefined ? undefined : this.sign * this.score[node]!;
  }

  stampOf(id: number): number {
    const node = this.nodeOf.get(id);
    return node === undefined ? 0 : this.stamp[node]!;
  }

  setStamp(id: number, stamp: number): void {
    const node = this.nodeOf.get(id);
    if (node !== undefined) this.stamp[node] = stamp;
  }

  /** Adds a record, or raises the score of one already ranked (best = the better of the two). */
  add({ id, name, score }: RankedScore): void {
    if (this.nodeOf.has(id)) return this.raise(id, score);
    this.insert(this.newNode({ id, name, score }));
  }

  /** Sets the owner's score, adding its record when it has none; it moves up or down. */
  set({ id, name, score }: RankedScore): void {
    const node = this.nodeOf.get(id);
    if (node === undefined) return this.insert(this.newNode({ id, name, score }));
    if (name !== this.names[node]) this.rename(node, name);
    if (this.sign * score !== this.score[node]) this.move(node, this.sign * score);
  }

  /**
   * A node's player under a new name (a display name changed). The old name, if this node held it,
   * passes to the oldest other holder (a scan: renames are rare); the new one is this node's unless
   * an older player has it.
   */
  private rename(node: number, name: string): void {
    this.releaseName(node);
    this.names[node] = name;
    const folded = foldName(name);
    const holder = this.byName.get(folded);
    if (holder === undefined || this.playerId[holder]! > this.playerId[node]!) this.byName.set(folded, node);
  }

  /** best = the better of the two; an owner not ranked (yet) is ignored. */
  raise(id: number, score: number): void {
    const node = this.nodeOf.get(id);
    if (node === undefined || !(this.sign * score > this.score[node]!)) return;
    this.move(node, this.sign * score);
  }

  /** The 1-based position of the owner's record, or undefined. */
  rankOfId(id: number): number | undefined {
    const node = this.nodeOf.get(id);
    return node === undefined ? undefined : this.positionOf(node) + 1;
  }

  /** The node's name, if it held it, passes to the oldest other holder (a scan: renames and removals are rare). */
  private releaseName(node: number): void {
    const old = foldName(this.names[node]!);
    if (this.byName.get(old) !== node) return;
    this.byName.delete(old);
    let heir = NONE;
    for (let other = 1; other < this.nodes; other++) {
      if (other !== node && this.nodeOf.get(this.playerId[other]!) === other && foldName(this.names[other]!) === old && (heir === NONE || this.playerId[other]! < this.playerId[heir]!)) heir = other;
    }
    if (heir !== NONE) this.byName.set(old, heir);
  }

  /** Takes the owner's record out (an operator removed it); false when it had none. */
  remove(id: number): boolean {
    const node = this.nodeOf.get(id);
    if (node === undefined) return false;
    this.detach(node);
    this.releaseName(node);
    this.nodeOf.delete(id);
    return true;
  }

  /** Takes the node out of the tree (it keeps its arrays' slots). */
  private detach(node: number): void {
    const id = this.playerId[node]!;
    this.split(this.root, this.score[node]!, id);
    const before = this.splitLeft;
    this.splitAfter(this.splitRight, 1);
    const [self, after] = [this.splitLeft, this.splitRight];
    this.root = this.merge(before, after);
    if (self !== node) throw new Error(`ranking out of order at player ${id}`);
  }

  /** Takes the node out and puts it back with a new key. */
  private move(node: number, key: number): void {
    this.detach(node);
    this.score[node] = key;
    this.left[node] = this.right[node] = NONE;
    this.size[node] = 1;
    this.insert(node);
  }

  /** The 1-based position of the owner of that name (see foldName; the oldest of several), or undefined. */
  rankOf(name: string): number | undefined {
    const node = this.byName.get(foldName(name));
    return node === undefined ? undefined : this.positionOf(node) + 1;
  }

  /** The 0-based position of a node. */
  private positionOf(node: number): number {
    const [score, id] = [this.score[node]!, this.playerId[node]!];
    let ahead = 0;
    for (let t = this.root; t !== NONE; ) {
      if (t === node) return ahead + this.size[this.left[t]!]!;
      if (this.before(t, score, id)) {
        ahead += this.size[this.left[t]!]! + 1;
        t = this.right[t]!;
      } else {
        t = this.left[t]!;
      }
    }
    throw new Error(`ranking lost player ${id}`);
  }

  /** `limit` entries from the 0-based position `offset`. */
  board(offset: number, limit: number): RankedEntry[] {
    const entries: RankedEntry[] = [];
    for (let position = Math.max(0, offset); position < Math.min(offset + limit, this.count); position++) {
      const node = this.at(position);
      entries.push({ rank: position + 1, id: this.playerId[node]!, name: this.names[node]!, score: this.sign * this.score[node]! });
    }
    return entries;
  }

  /** The node at a 0-based position. */
  private at(position: number): number {
    let t = this.root;
    for (;;) {
      const leftSize = this.size[this.left[t]!]!;
      if (position < leftSize) {
        t = this.left[t]!;
      } else if (position === leftSize) {
        return t;
      } else {
        position -= leftSize + 1;
        t = this.right[t]!;
      }
    }
  }

  private newNode({ id, name, score }: RankedScore): number {
    if (this.nodes === this.capacity) this.grow();
    const node = this.nodes++;
    this.priority[node] = Math.random();
    this.score[node] = this.sign * score;
    this.playerId[node] = id;
    this.size[node] = 1;
    this.names.push(name);
    this.nodeOf.set(id, node);
    const folded = foldName(name);
    const holder = this.byName.get(folded);
    if (holder === undefined || this.playerId[holder]! > id) this.byName.set(folded, node);
    return node;
  }

  /** Sets the sizes of a tree built without them, children first (iteratively: a tree may be deep before it is balanced). */
  private resize(root: number): void {
    const order: number[] = [];
    for (const stack = root === NONE ? [] : [root]; stack.length > 0; ) {
      const t = stack.pop()!;
      order.push(t);
      if (this.left[t] !== NONE) stack.push(this.left[t]!);
      if (this.right[t] !== NONE) stack.push(this.right[t]!);
    }
    for (let i = order.length - 1; i >= 0; i--) this.update(order[i]!);
  }

  /** Whether node t comes before the key (score, id) in board order. */
  private before(t: number, score: number, id: number): boolean {
    const s = this.score[t]!;
    return s > score || (s === score && this.playerId[t]! < id);
  }

  private insert(node: number): void {
    this.split(this.root, this.score[node]!, this.playerId[node]!);
    this.root = this.merge(this.merge(this.splitLeft, node), this.splitRight);
  }

  /** Splits tree t into the nodes before the key and the rest. */
  private split(t: number, score: number, id: number): void {
    if (t === NONE) {
      this.splitLeft = this.splitRight = NONE;
    } else if (this.before(t, score, id)) {
      this.split(this.right[t]!, score, id);
      this.right[t] = this.splitLeft;
      this.update(t);
      this.splitLeft = t;
    } else {
      this.split(this.left[t]!, score, id);
      this.left[t] = this.splitRight;
      this.update(t);
      this.splitRight = t;
    }
  }

  /** Splits tree t into its first `count` nodes and the rest. */
  private splitAfter(t: number, count: number): void {
    if (t === NONE) {
      this.splitLeft = this.splitRight = NONE;
    } else if (this.size[this.left[t]!]! < count) {
      this.splitAfter(this.right[t]!, count - this.size[this.left[t]!]! - 1);
      this.right[t] = this.splitLeft;
      this.update(t);
      this.splitLeft = t;
    } else {
      this.splitAfter(this.left[t]!, count);
      this.left[t] = this.splitRight;
      this.update(t);
      this.splitRight = t;
    }
  }

  private merge(a: number, b: number): number {
    if (a === NONE) return b;
    if (b === NONE) return a;
    if (this.priority[a]! > this.priority[b]!) {
      this.right[a] = this.merge(this.right[a]!, b);
      this.update(a);
      return a;
    }
    this.left[b] = this.merge(a, this.left[b]!);
    this.update(b);
    return b;
  }

  private update(t: number): void {
    this.size[t] = this.size[this.left[t]!]! + this.size[this.right[t]!]! + 1;
  }

  private grow(): void {
    this.capacity *= 2;
    const grown = <T extends Int32Array | Float64Array>(old: T): T => {
      const copy = new (old.constructor as new (n: number) => T)(this.capacity);
      copy.set(old);
      return copy;
    };
    this.left = grown(this.left);
    this.right = grown(this.right);
    this.size = grown(this.size);
    this.priority = grown(this.priority);
    this.score = grown(this.score);
    this.playerId = grown(this.playerId);
    this.stamp = grown(this.stamp);
  }
}
