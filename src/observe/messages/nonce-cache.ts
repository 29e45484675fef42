import type { Store } from '../../store/store.js';
import { BoundedMap } from '../bounded-map.js';

/** Store collection of message nonces seen inside the freshness window. */
export const NONCE_COLLECTION = 'message_nonces';

/** Options of the nonce cache. */
export interface NonceCacheOptions {
  /** Nonces held in memory. */
  capacity: number;
  /** How long a nonce must be remembered: the freshness window (max age plus max skew), ms. */
  windowMs: number;
  /** Also record nonces in the store (restarts and replicas). */
  persist: boolean;
  onError: (error: unknown) => void;
}

/**
 * Replay protection for signed messages. A nonce is accepted once per sender inside the freshness window;
 * older envelopes are refused by the freshness check, so nothing older needs remembering. Memory holds a
 * bounded set; the store holds the window durably, keyed by a time bucket derived from the signed time so the
 * check is a single compare-and-set and old buckets are deleted by prefix.
 */
export class NonceCache {
  private readonly store: Store;
  private readonly options: NonceCacheOptions;
  private readonly seen: BoundedMap<string, number>;
  private purgedBelow: number | undefined;
  private lastPurge = 0;

  constructor(store: Store, options: NonceCacheOptions) {
    this.store = store;
    this.options = options;
    this.seen = new BoundedMap(options.capacity);
  }

  private bucketOf(ts: number): number {
    return Math.floor(ts / this.options.windowMs);
  }

  /**
   * Records a nonce. Resolves true the first time, false for a replay. Rejects when the store cannot say
   * (the caller denies: fail closed).
   */
  async claim(from: string, nonce: string, ts: number, now: number): Promise<boolean> {
    const key = `${from}\u0000${nonce}`;
    const known = this.seen.get(key);
    if (known !== undefined && known > now) return false;
    this.seen.set(key, ts + this.options.windowMs);
    if (!this.options.persist) return true;
    const id = `b${this.bucketOf(ts)}:${from}:${nonce}`;
    let fresh: boolean;
    try {
      fresh = await this.store.putDoc(NONCE_COLLECTION, id, { from, ts }, 0);
    } catch (error) {
      // The message is refused (fail closed); forgetting the nonce lets the sender retry once the store is back.
      this.seen.delete(key);
      throw error;
    }
    if (now - this.lastPurge > Math.min(60_000, this.options.windowMs)) {
      this.lastPurge = now;
      this.purge(now).catch(this.options.onError);
    }
    return fresh;
  }

  /** Deletes stored nonces of buckets entirely older than the window. */
  async purge(now: number): Promise<void> {
    // A bucket b covers [b*w, (b+1)*w); it can be dropped once its end is a full window in the past.
    const limit = this.bucketOf(now) - 1;
    let from = this.purgedBelow ?? limit - 8;
    for (; from < limit; from++) {
      for (const d of await this.store.listDocs(NONCE_COLLECTION, `b${from}:`))
        await this.store.deleteDoc(NONCE_COLLECTION, d.id);
    }
    this.purgedBelow = limit;
  }
}
