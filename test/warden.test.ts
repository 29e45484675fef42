import { afterEach, describe, expect, it } from 'vitest';
import { reason } from '../src/core/decision.js';
import type { Store } from '../src/store/store.js';
import { verifyStoreLedger } from '../src/store/verify-chain.js';
import type { Warden } from '../src/warden.js';
import { testWarden } from './helpers/warden.js';

let open: { warden: Warden; store: Store }[] = [];
async function make(...args: Parameters<typeof testWarden>) {
  const w = await testWarden(...args);
  open.push(w);
  return w;
}
afterEach(async () => {
  for (const { warden, store } of open) {
    await warden.close().catch(() => undefined);
    await store.close();
  }
  open = [];
});

/** Wraps a store so a test can make it fail on demand: the one fault we cannot cause with SQLite itself. */
function flakyStore(inner: Store): Store & { failing: boolean } {
  const s = Object.create(inner) as Store & { failing: boolean };
  s.failing = false;
  s.appendLedger = (entries) =>
    s.failing ? Promise.reject(new Error('disk on fire')) : inner.appendLedger(entries);
  return s;
}

describe('Warden decisions', () => {
  it('lets an Intern read and denies its writes', async () => {
    const { warden } = await make();
    const s = warden.session({ agent: 'intern-bot', user: 'u' });
    expect((await s.authorize({ tool: 'read_file', args: { path: 'a' } })).verdict).toBe('allow');
    const d = await s.authorize({ tool: 'write_file', args: { path: 'a' } });
    expect(d.verdict).toBe('deny');
    expect(d.reasons[0]).toMatchObject({ control: 'phase', domain: 3 });
    expect(d.escalation?.who).toEqual(['alice']);
  });

  it('denies unknown agents and unknown tools', async () => {
    const { warden } = await make();
    const shadow = await warden.session({ agent: 'ghost' }).authorize({ tool: 'read_file', args: {} });
    expect(shadow.reasons[0]).toMatchObject({ control: 'shadow-agent', risk: 'ASI10' });
    const tool = await warden.session({ agent: 'intern-bot' }).authorize({ tool: 'rm_rf', args: {} });
    expect(tool.reasons[0]).toMatchObject({ control: 'unknown-tool', risk: 'ASI02' });
  });

  it('denies malformed events with a reason and records them', async () => {
    const { warden, store } = await make();
    const s = warden.session({ agent: 'intern-bot' });
    const bad = [
      s.authorize({ tool: '', args: {} }),
      s.authorize({ tool: 'read_file', args: null as unknown as Record<string, unknown> }),
      s.authorize({ tool: 'read_file', args: [] as unknown as Record<string, unknown> }),
      s.ingest({ source: 'web', text: 42 as unknown as string }),
      s.memoryWrite({ namespace: '', key: 'k' }),
    ];
    for (const d of await Promise.all(bad)) {
      expect(d.verdict).toBe('deny');
      expect(d.reasons[0]?.control).toBe('input');
    }
    await warden.runtime.ledger.flush();
    expect((await store.readLedger({ type: 'event.malformed' })).length).toBe(5);
  });

  it('makes an allowed write durable before returning, and batches reads', async () => {
    const { warden, store } = await make();
    const s = warden.session({ agent: 'senior-bot' });
    // The user names the file: the verification gate (trust module) requires the path to trace to them.
    await s.ingest({ source: 'user', text: 'please write the file x' });
    const read = await s.authorize({ tool: 'read_file', args: {} });
    const write = await s.authorize({ tool: 'write_file', args: { path: 'x' } });
    expect(write.verdict).toBe('allow');
    const ids = (await store.readLedger()).map((r) => r.id);
    expect(ids).toContain(write.eventId);
    // The read was queued before the write, so the durable flush carried it too, in order.
    expect(ids.indexOf(read.eventId)).toBeLessThan(ids.indexOf(write.eventId));
  });

  it('denies a write when the ledger cannot store it, and loses nothing once the store is back', async () => {
    const { store: inner } = await make();
    const store = flakyStore(inner);
    const { warden } = await make(undefined, { store, onError: () => undefined });
    const s = warden.session({ agent: 'senior-bot' });
    await s.ingest({ source: 'user', text: 'please write the file x' });
    store.failing = true;
    const d = await s.authorize({ tool: 'write_file', args: { path: 'x' } });
    expect(d.verdict).toBe('deny');
    expect(d.reasons[0]?.control).toBe('ledger');
    const r = await s.authorize({ tool: 'read_file', args: {} });
    store.failing = false;
    await warden.runtime.ledger.flush();
    const rows = await inner.readLedger();
    const denied = rows.find((x) => x.id === d.eventId);
    expect(denied?.verdict).toBe('deny');
    expect(rows.some((x) => x.id === r.eventId)).toBe(true);
    expect((await verifyStoreLedger(inner)).ok).toBe(true);
  });

  it('halts on a kill switch and aborts in-flight work', async () => {
    const { warden, store } = await make();
    const s = warden.session({ agent: 'senior-bot' });
    const other = warden.session({ agent: 'intern-bot' });
    await warden.kill('agent', 'senior-bot', 'drill', 'test');
    expect(s.signal.aborted).toBe(true);
    expect(other.signal.aborted).toBe(false);
    const d = await s.authorize({ tool: 'read_file', args: {} });
    expect(d.verdict).toBe('halt');
    expect(d.reasons[0]).toMatchObject({ control: 'kill-switch', evidence: { by: 'test' } });
    expect((await other.authorize({ tool: 'read_file', args: {} })).verdict).toBe('allow');
    await warden.release('agent', 'senior-bot', 'drill over', 'test');
    expect(
      (await warden.session({ agent: 'senior-bot' }).authorize({ tool: 'read_file', args: {} })).verdict,
    ).toBe('allow');
    const types = (await store.readLedger()).map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['kill.engaged', 'kill.released']));
  });

  it('a global kill switch halts every agent', async () => {
    const { warden } = await make();
    await warden.kill('global', '*', 'everything stops', 'test');
    for (const agent of ['intern-bot', 'junior-bot', 'ghost']) {
      expect((await warden.session({ agent }).authorize({ tool: 'read_file', args: {} })).verdict).toBe(
        'halt',
      );
    }
  });

  it('fails closed when a stage throws, and an approve with no approval service is denied', async () => {
    const { warden } = await make(undefined, {
      extensions: [],
      stages: [
        {
          name: 'explodes',
          order: 450,
          evaluate: (ctx) => {
            if (ctx.tool?.name === 'read_file') throw new Error('bug');
            return { verdict: 'approve', reasons: [reason('test', 3, 'ASI09', 'a person must look')] };
          },
        },
      ],
    });
    const s = warden.session({ agent: 'senior-bot' });
    expect((await s.authorize({ tool: 'read_file', args: {} })).reasons[0]?.control).toBe('fail-closed');
    const d = await s.authorize({ tool: 'write_file', args: {} });
    expect(d.verdict).toBe('deny');
    expect(d.reasons.map((r) => r.control)).toContain('approval');
  });

  it('redacts secrets before they reach the ledger', async () => {
    const { warden, store } = await make();
    const s = warden.session({ agent: 'senior-bot' });
    await s.ingest({ source: 'user', text: 'please write the file x' });
    await s.authorize({
      tool: 'write_file',
      args: { path: 'x', content: 'key=ghp_' + 'a'.repeat(36) + ' ref internal-1234', password: 'hunter2' },
    });
    const text = JSON.stringify(await store.readLedger());
    expect(text).not.toContain('ghp_aaaa');
    expect(text).not.toContain('internal-1234');
    expect(text).not.toContain('hunter2');
    expect(text).toContain('[REDACTED]');
  });

  it('survives huge and hostile arguments', async () => {
    const { warden } = await make();
    const s = warden.session({ agent: 'senior-bot' });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 5000; i++) deep = deep.x = {};
    for (const args of [{ big: 'x'.repeat(5_000_000) }, cyclic, root, { n: NaN, b: BigInt(1), f: () => 1 }]) {
      const d = await s.authorize({ tool: 'read_file', args });
      expect(['allow', 'deny']).toContain(d.verdict);
    }
    await warden.runtime.ledger.flush();
  });

  it('wrap authorizes, runs and records; refusals come back as values', async () => {
    const { warden, store } = await make();
    const s = warden.session({ agent: 'intern-bot' });
    let ran = 0;
    const read = s.wrap({
      name: 'read_file',
      execute: (args: { path: string }) => (ran++, `contents of ${args.path}`),
    });
    const write = s.wrap({ name: 'write_file', execute: () => (ran++, 'written') });
    const ok = await read({ path: 'a.txt' });
    expect(ok).toMatchObject({ status: 'ok', result: 'contents of a.txt' });
    const no = await write({ path: 'a.txt' });
    expect(no.status).toBe('denied');
    expect(ran).toBe(1);
    await warden.runtime.ledger.flush();
    const types = (await store.readLedger()).map((r) => `${r.type}:${r.tool}:${r.verdict}`);
    expect(types).toEqual([
      'tool.call:read_file:allow',
      'tool.result:read_file:allow',
      'tool.call:write_file:deny',
    ]);
  });

  it('keeps one valid chain across many sessions', async () => {
    const { warden, store } = await make();
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        warden
          .session({ agent: i % 2 ? 'senior-bot' : 'intern-bot' })
          .authorize({ tool: i % 3 ? 'read_file' : 'write_file', args: { i } }),
      ),
    );
    await warden.close();
    const v = await verifyStoreLedger(store);
    expect(v).toMatchObject({ ok: true, count: 50 });
  });
});
