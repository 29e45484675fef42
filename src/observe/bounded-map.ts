/**
 * A map with a fixed capacity that evicts the least recently used keys, approximately (the CLOCK
 * algorithm). A read marks an entry as used with one field write instead of re-inserting it, so the hot
 * path of a detector pays a map lookup and nothing else; eviction gives used entries a second chance.
 */
export class BoundedMap<K, V> {
  readonly capacity: number;
  private readonly entries = new Map<K, { value: V; used: boolean }>();
  private readonly onEvict: ((key: K, value: V) => void) | undefined;
  /** Entries evicted since creation, for statistics. */
  evicted = 0;

  constructor(capacity: number, onEvict?: (key: K, value: V) => void) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.capacity = capacity;
    this.onEvict = onEvict;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, marked as recently used. */
  get(key: K): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    e.used = true;
    return e.value;
  }

  /** The value without marking it used. */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Sets a value, evicting one entry first if the map is full. */
  set(key: K, value: V): void {
    const e = this.entries.get(key);
    if (e !== undefined) {
      e.value = value;
      e.used = true;
      return;
    }
    if (this.entries.size >= this.capacity) this.evictOne();
    this.entries.set(key, { value, used: false });
  }

  /** The value for `key`, created by `init` when absent. */
  getOrCreate(key: K, init: () => V): V {
    const e = this.entries.get(key);
    if (e !== undefined) {
      e.used = true;
      return e.value;
    }
    const value = init();
    this.set(key, value);
    return value;
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Entries in insertion order (not use order). */
  *[Symbol.iterator](): IterableIterator<[K, V]> {
    for (const [k, e] of this.entries) yield [k, e.value];
  }

  keys(): IterableIterator<K> {
    return this.entries.keys();
  }

  private evictOne(): void {
    // Each pass clears at most `size` used flags, so the loop ends within two passes.
    for (;;) {
      const first = this.entries.entries().next();
      if (first.done) return;
      const [key, e] = first.value;
      this.entries.delete(key);
      if (e.used) {
        e.used = false;
        this.entries.set(key, e);
        continue;
      }
      this.evicted++;
      this.onEvict?.(key, e.value);
      return;
    }
  }
}
