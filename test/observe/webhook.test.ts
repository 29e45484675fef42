import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/observe/alerts/alert.js';
import { WebhookNotifier } from '../../src/observe/alerts/webhook.js';
import type { Store } from '../../src/store/store.js';
import type { Warden } from '../../src/warden.js';
import { until } from '../helpers/wait.js';
import { FakeClock, observeWarden, withObserve } from './helpers.js';

const GC_FIXTURE = fileURLToPath(new URL('../fixtures/webhook-gc.ts', import.meta.url));

interface Received {
  body: { type: string; alert: Alert };
  headers: IncomingMessage['headers'];
}

let servers: Server[] = [];
let open: { warden: Warden; store: Store }[] = [];
const hanging: ServerResponse[] = [];
afterEach(async () => {
  for (const { warden, store } of open) {
    await warden.close().catch(() => undefined);
    await store.close();
  }
  open = [];
  for (const r of hanging.splice(0)) r.destroy();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  servers = [];
});

/** A loopback receiver whose behaviour per request is given by `respond` (undefined: never answer). */
async function receiver(
  respond: (n: number) => number | undefined,
): Promise<{ url: string; received: Received[]; attempts: () => number }> {
  const received: Received[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = respond(n++);
      if (status === undefined) {
        hanging.push(res);
        return;
      }
      if (status < 300)
        received.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')), headers: req.headers });
      res.writeHead(status).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    attempts: () => n,
  };
}

function alert(i: number): Alert {
  return {
    id: `al-${i}`,
    rule: 'burst',
    severity: 'high',
    agent: 'a',
    ts: i,
    message: 'm',
    evidence: { events: [] },
    actions: ['record', 'notify'],
    status: 'open',
  };
}

describe('alert webhook', () => {
  it('delivers alerts raised by detectors, with the configured headers', async () => {
    const hook = await receiver(() => 200);
    const config = withObserve(`  alerts:
    webhook: { url: '${hook.url}', headers: { authorization: 'Bearer hook-secret' } }
`);
    const w = await observeWarden(config, { clock: new FakeClock() });
    open.push(w);
    const s = w.warden.session({ agent: 'commenter' });
    for (let i = 0; i < 31; i++) await s.authorize({ tool: 'post_comment', args: { body: 'spam' } });
    await until(() => hook.received.some((r) => r.body.alert.rule === 'burst'), 'the burst alert delivered');
    const burst = hook.received.find((r) => r.body.alert.rule === 'burst');
    expect(burst?.body).toMatchObject({
      type: 'warden.alert',
      alert: { agent: 'commenter', severity: 'high' },
    });
    expect(burst?.headers.authorization).toBe('Bearer hook-secret');
  });

  it('retries a failing receiver with backoff until it answers', async () => {
    const hook = await receiver((n) => (n < 2 ? 503 : 200));
    const notifier = new WebhookNotifier({
      url: hook.url,
      headers: {},
      // A hang guard only: an attempt cut short on a loaded machine would be one more attempt than asserted.
      timeoutMs: 10_000,
      retries: 3,
      backoffMs: 20,
      queueSize: 10,
    });
    notifier.send(alert(1));
    await until(() => notifier.stats.delivered === 1, 'the alert delivered');
    expect(hook.received).toHaveLength(1);
    expect(hook.attempts()).toBe(3);
    expect(notifier.stats).toMatchObject({ delivered: 1, failed: 0, attempts: 3 });
    await notifier.close();
  });

  it('does not retry a 4xx other than 408 and 429', async () => {
    const hook = await receiver(() => 404);
    const errors: unknown[] = [];
    const notifier = new WebhookNotifier({
      url: hook.url,
      headers: {},
      timeoutMs: 10_000,
      retries: 3,
      backoffMs: 5,
      queueSize: 10,
      onError: (e) => errors.push(e),
    });
    notifier.send(alert(1));
    await until(() => notifier.stats.failed === 1, 'the alert given up');
    expect(hook.attempts()).toBe(1);
    expect(String(errors[0])).toMatch(/404/);
    await notifier.close();
  });

  it('bounds a hanging receiver: attempts time out, the queue is capped, and decisions never wait', async () => {
    const hook = await receiver(() => undefined);
    const config = withObserve(`  detectors:
    builtins: false
    rules:
      - { id: every-call, type: burst, max: 1, windowSeconds: 60, per: session, actions: [record, notify] }
  alerts:
    webhook: { url: '${hook.url}', timeoutMs: 100, retries: 1, backoffMs: 10, queueSize: 3 }
`);
    const w = await observeWarden(config, { clock: new FakeClock() });
    open.push(w);
    // 20 sessions, each raising one alert while the receiver hangs on the first request. Over SQLite the 40
    // decisions never yield to timers (measured: not one timer turn), so no attempt can time out before all 20
    // alerts are queued however slow the machine: one in flight, three queued, sixteen dropped.
    for (let i = 0; i < 20; i++) {
      const s = w.warden.session({ agent: 'worker' });
      await s.authorize({ tool: 'search', args: {} });
      const d = await s.authorize({ tool: 'search', args: {} });
      expect(d.verdict).toBe('allow');
    }
    await until(() => hook.attempts() >= 1, 'the first attempt received');
    await w.observe.flush();
    expect((await w.store.listDocs('alerts')).length).toBe(20);
    // The receiver never answered: attempts timed out and were retried once; the queue kept at most 3.
    const stats = (w.ext as unknown as { webhook: WebhookNotifier }).webhook.stats;
    await until(() => stats.failed >= 1, 'the first alert given up');
    expect(stats.dropped).toBeGreaterThanOrEqual(16);
    expect(stats.queued).toBeLessThanOrEqual(3);
    expect(stats.delivered).toBe(0);
  });

  // Its own process (for --expose-gc), which takes seconds to start through tsx on a loaded machine: the
  // limits here are hang guards, and the fixture reports "hung" itself well before them.
  it('still times out an attempt after a garbage collection (a composed AbortSignal can lose its timer)', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', GC_FIXTURE],
      { encoding: 'utf8', timeout: 50_000 },
    );
    expect(stdout.trim()).not.toBe('hung');
    expect(JSON.parse(stdout) as { failed: number; attempts: number }).toMatchObject({
      failed: 1,
      attempts: 1,
    });
  }, 60_000);

  it('gives up on close instead of hanging shutdown', async () => {
    const hook = await receiver(() => undefined);
    const notifier = new WebhookNotifier({
      url: hook.url,
      headers: {},
      timeoutMs: 30_000,
      retries: 5,
      backoffMs: 1_000,
      queueSize: 10,
    });
    notifier.send(alert(1));
    notifier.send(alert(2));
    await until(() => hook.attempts() === 1, 'the first attempt received');
    // The attempt's own timeout (30 s) is longer than this test's: finishing at all shows close abandoned it.
    await notifier.close(50);
    expect(notifier.stats.delivered).toBe(0);
  });
});
