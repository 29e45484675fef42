import type { Alert } from './alert.js';

/** Options of the webhook notifier. */
export interface WebhookOptions {
  url: string;
  headers: Record<string, string>;
  /** Longest one attempt may take. */
  timeoutMs: number;
  /** Retries after a failed attempt. */
  retries: number;
  /** First retry delay; doubles per retry (with jitter). */
  backoffMs: number;
  /** Alerts waiting; beyond it the oldest is dropped and counted. */
  queueSize: number;
  onError?: (error: unknown) => void;
}

/** Delivery statistics, for tests and the control plane. */
export interface WebhookStats {
  queued: number;
  delivered: number;
  failed: number;
  dropped: number;
  attempts: number;
}

/**
 * Sends alerts to a webhook in the background. `send` is synchronous and O(1): it only queues, so a hanging
 * or failing receiver can never slow a decision. One delivery runs at a time; each attempt is bounded by a
 * timeout; failures are retried with exponential backoff; the queue is capped.
 */
export class WebhookNotifier {
  private readonly options: WebhookOptions;
  private readonly queue: Alert[] = [];
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly inflight = new AbortController();
  private sleepTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  readonly stats: WebhookStats = { queued: 0, delivered: 0, failed: 0, dropped: 0, attempts: 0 };

  constructor(options: WebhookOptions) {
    this.options = options;
  }

  /** Queues an alert for delivery. Never blocks, never throws. */
  send(alert: Alert): void {
    if (this.closed) return;
    if (this.queue.length >= this.options.queueSize) {
      this.queue.shift();
      this.stats.dropped++;
    }
    this.queue.push(alert);
    this.stats.queued = this.queue.length;
    this.kick();
  }

  private kick(): void {
    if (this.running || this.closed) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  /** Waits for the queue to empty, at most `timeoutMs`; then abandons what is left. */
  async close(timeoutMs = 2_000): Promise<void> {
    if (this.closed) return;
    const done = this.running;
    if (done) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
    this.closed = true;
    this.inflight.abort();
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.wake?.();
    this.stats.dropped += this.queue.length;
    this.queue.length = 0;
    this.stats.queued = 0;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const alert = this.queue.shift();
      this.stats.queued = this.queue.length;
      if (alert === undefined || this.closed) return;
      await this.deliver(alert);
    }
  }

  private async deliver(alert: Alert): Promise<void> {
    const body = JSON.stringify({ type: 'warden.alert', alert });
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      if (this.closed) return;
      if (attempt > 0) {
        const base = this.options.backoffMs * 2 ** (attempt - 1);
        await this.sleep(base / 2 + Math.random() * base);
        if (this.closed) return;
      }
      this.stats.attempts++;
      // A controller and timer held here, not AbortSignal.timeout composed with AbortSignal.any: Node's fetch
      // follows a composed signal weakly, and after a garbage collection the timeout could be lost, leaving one
      // hanging receiver to stall every later alert (nodejs/node#55428).
      const attemptAbort = new AbortController();
      const timer = setTimeout(() => {
        attemptAbort.abort(new Error('alert webhook attempt timed out'));
      }, this.options.timeoutMs);
      const onClose = (): void => {
        attemptAbort.abort(new Error('alert webhook closed'));
      };
      this.inflight.signal.addEventListener('abort', onClose, { once: true });
      try {
        const res = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...this.options.headers },
          body,
          signal: attemptAbort.signal,
        });
        // Drain the body so the connection can be reused; its content does not matter.
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.stats.delivered++;
          return;
        }
        // A 4xx other than 408/429 will not get better by retrying.
        if (res.status < 500 && res.status !== 408 && res.status !== 429) {
          this.stats.failed++;
          this.options.onError?.(new Error(`alert webhook answered ${res.status}; not retried`));
          return;
        }
      } catch (error) {
        if (attempt === this.options.retries) this.options.onError?.(error);
      } finally {
        clearTimeout(timer);
        this.inflight.signal.removeEventListener('abort', onClose);
      }
    }
    this.stats.failed++;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
      this.sleepTimer.unref();
    });
  }
}
