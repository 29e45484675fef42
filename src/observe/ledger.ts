import { StoreError, WardenError } from '../core/errors.js';
import type { LedgerEntry, Store } from '../store/store.js';

/** Options for the ledger writer. */
export interface LedgerOptions {
  /** Records per store append. */
  batchSize: number;
  /** Longest a non-durable record waits in memory before a flush starts. */
  flushMs: number;
  /** Records kept while the store is unreachable; past it `accepting` turns false. */
  maxPending: number;
  /** Called when a background flush fails (the records stay queued and are retried). */
  onError?: (error: unknown) => void;
}

/**
 * Writes ledger entries to the store. Reads are batched; an entry that lets a `write` or
 * `irreversible` action proceed goes through `appendDurable`, which resolves only once the entry (and
 * every entry queued before it) is stored. A failed flush keeps the entries and retries: nothing
 * accepted is dropped while the process lives.
 */
export class Ledger {
  private readonly store: Store;
  private readonly options: LedgerOptions;
  private pending: LedgerEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private failures = 0;
  private lastError: unknown;
  /** Waiters for durability of entries queued before a given position. */
  private waiters: { upTo: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** Count of entries ever queued and ever stored, to know which waiters are done. */
  private queued = 0;
  private stored = 0;

  constructor(store: Store, options: LedgerOptions) {
    this.store = store;
    this.options = options;
  }

  /** False when the backlog is full (the store has been unreachable for a while): callers should deny. */
  get accepting(): boolean {
    return !this.closed && this.pending.length < this.options.maxPending;
  }

  /** Entries waiting to be stored. */
  get backlog(): number {
    return this.pending.length;
  }

  /** The last flush error, if the store is currently failing. */
  get error(): unknown {
    return this.failures > 0 ? this.lastError : undefined;
  }

  /** Queues an entry for the next batch. Throws when closed or the backlog is full. */
  enqueue(entry: LedgerEntry): void {
    if (this.closed) throw new WardenError('CLOSED', 'the ledger is closed');
    if (this.pending.length >= this.options.maxPending) {
      throw new StoreError(
        'STORE_UNAVAILABLE',
        `ledger backlog is full (${this.pending.length} records unstored)`,
        this.lastError,
      );
    }
    this.pending.push(entry);
    this.queued++;
    if (this.pending.length >= this.options.batchSize) this.kick();
    else
      this.timer ??= setTimeout(
        () => {
          this.kick();
        },
        this.failures > 0 ? this.backoff() : this.options.flushMs,
      );
  }

  /** Queues an entry and resolves once it is durable in the store; rejects if the store fails. */
  appendDurable(entry: LedgerEntry): Promise<void> {
    this.enqueue(entry);
    const upTo = this.queued;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ upTo, resolve, reject }));
    this.kick();
    return done;
  }

  /** Stores everything queued so far. Rejects if the store fails (entries stay queued). */
  async flush(): Promise<void> {
    for (;;) {
      if (this.flushing) await this.flushing.catch(() => undefined);
      if (this.pending.length === 0) return;
      await this.flushOnce();
    }
  }

  /** Flushes, then refuses further entries. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private backoff(): number {
    return Math.min(5_000, this.options.flushMs * 2 ** Math.min(this.failures, 7));
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.flushing) return;
    this.flushOnce().catch((error: unknown) => this.options.onError?.(error));
  }

  private flushOnce(): Promise<void> {
    if (this.flushing) return this.flushing;
    const run = async () => {
      while (this.pending.length > 0) {
        const batch = this.pending.slice(0, this.options.batchSize);
        try {
          await this.store.appendLedger(batch);
        } catch (error) {
          this.failures++;
          this.lastError = error;
          // Durable waiters learn now; the entries stay queued and a retry is scheduled.
          const waiters = this.waiters;
          this.waiters = [];
          for (const w of waiters) w.reject(error);
          if (!this.closed)
            this.timer ??= setTimeout(() => {
              this.kick();
            }, this.backoff());
          throw error;
        }
        this.failures = 0;
        this.pending.splice(0, batch.length);
        this.stored += batch.length;
        if (this.waiters.length > 0) {
          const still: typeof this.waiters = [];
          for (const w of this.waiters) {
            if (w.upTo <= this.stored) w.resolve();
            else still.push(w);
          }
          this.waiters = still;
        }
      }
    };
    this.flushing = run().finally(() => {
      this.flushing = undefined;
      // A durable waiter may have queued behind an in-flight batch.
      if (this.waiters.length > 0 && this.pending.length > 0 && this.failures === 0) this.kick();
    });
    return this.flushing;
  }
}
