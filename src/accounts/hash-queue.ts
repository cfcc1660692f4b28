// Password hashing (argon2id, bcrypt) is the costliest thing a client can ask for. Hashes run a few at
// a time, off the event loop, and the clients waiting take turns by address, so that a flood from
// one address (or one client) delays another's login by its share, one hash, and no more. The queue
// is bounded per address and in all; past either bound a request is refused at once.

/** run()'s answer when the queue is full: the client is told to try again. */
export class QueueFullError extends Error {}

export interface HashQueueLimits {
  /** Hashes at once: one core is left to the event loop. */
  workers: number;
  /** Waiting requests from one address (a classroom behind one address may all register at once). */
  perAddress: number;
  /** Waiting requests in all. */
  total: number;
}

export const DEFAULT_HASH_QUEUE: HashQueueLimits = {
  workers: Math.max(1, navigator.hardwareConcurrency - 1),
  perAddress: 64,
  total: 1024,
};

export class HashQueue {
  private running = 0;
  private waitingCount = 0;
  /** Waiting starts by address; the Map's order is the turn order (an address served goes last). */
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(private readonly limits: HashQueueLimits = DEFAULT_HASH_QUEUE) {}

  /** Requests waiting for a worker. */
  get length(): number {
    return this.waitingCount;
  }

  /** Runs `task` when a worker is free and it is `address`'s turn; rejects with QueueFullError at once when full. */
  run<T>(address: string, task: () => Promise<T>): Promise<T> {
    if (this.running < this.limits.workers && this.waitingCount === 0) return this.start(task);
    const line = this.waiting.get(address) ?? [];
    if (line.length >= this.limits.perAddress) return Promise.reject(new QueueFullError(`${line.length} requests from ${address} already wait`));
    if (this.waitingCount >= this.limits.total) return Promise.reject(new QueueFullError(`${this.waitingCount} requests already wait`));
    return new Promise<T>((resolve, reject) => {
      line.push(() => void this.start(task).then(resolve, reject));
      this.waiting.set(address, line);
      this.waitingCount++;
    });
  }

  private async start<T>(task: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.next();
    }
  }

  /** Starts the first waiting request of the address whose turn it is; that address goes to the back. */
  private next(): void {
    const turn = this.waiting.entries().next();
    if (turn.done) return;
    const [address, line] = turn.value;
    const start = line.shift()!;
    this.waiting.delete(address);
    if (line.length > 0) this.waiting.set(address, line);
    this.waitingCount--;
    start();
  }
}
