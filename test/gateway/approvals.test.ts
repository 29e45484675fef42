import { afterEach, describe, expect, it } from 'vitest';
import { extension as actionsExtension } from '../../src/actions/extension.js';
import { defaultExtensions } from '../../src/pipeline/default-extensions.js';
import type { Extension } from '../../src/pipeline/runtime.js';
import { buildServer, harness, memoryUpstream, textOf, type Harness, type ServerLog } from './helpers.js';

/** Default modules plus the actions module (approvals), whether or not it is registered by default yet. */
async function withApprovals(): Promise<Extension[]> {
  const list = await defaultExtensions();
  return list.some((e) => e.name === 'actions') ? list : [...list, actionsExtension()];
}

let open: Harness[] = [];
afterEach(async () => {
  for (const h of open) await h.close().catch(() => undefined);
  open = [];
});

interface ApprovalsApi {
  list(filter?: { status?: string }): Promise<{ request: { id: string; tool: string; status: string } }[]>;
  approve(id: string, by: string, note?: string): Promise<unknown>;
  deny(id: string, by: string, reason: string): Promise<unknown>;
}

async function pendingApproval(h: Harness): Promise<string> {
  const api = h.warden.runtime.service<ApprovalsApi>('approvals.api')!;
  for (let i = 0; i < 200; i++) {
    const open = await api.list({ status: 'pending' });
    if (open[0]) return open[0].request.id;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no approval request appeared');
}

describe('gateway approvals', () => {
  it('asks the person in the client (elicitation) with the facts, and runs the exact call once granted', async () => {
    const log: ServerLog = { calls: [], cancelled: [] };
    const asked: Record<string, unknown>[] = [];
    const h = await harness({
      agent: 'junior-bot',
      extensions: await withApprovals(),
      upstreams: [memoryUpstream('mem', () => buildServer(log))],
      elicit: (params) => {
        asked.push(params);
        return { action: 'accept', content: { approve: true, note: 'looks right' } };
      },
    });
    open.push(h);
    const r = await h.client.callTool({
      name: 'write_note',
      arguments: { path: 'notes/today.md' },
      _meta: { 'agent-warden/rationale': 'the user asked for it' },
    });
    expect(textOf(r)).toBe('wrote notes/today.md');
    expect(log.calls).toEqual(['write_note notes/today.md']);
    expect(asked.length).toBe(1);
    const message = String(asked[0]?.message);
    expect(message).toMatch(/Tool: write_note on server mem/);
    expect(message).toMatch(/path = "notes\/today.md"/);
    expect(message).toMatch(/Junior/);
    expect(message).toMatch(/own explanation \(its words, not verified by Warden\): "the user asked for it"/);
    expect(asked[0]?.requestedSchema).toMatchObject({ properties: { approve: { type: 'boolean' } } });
    await h.warden.runtime.ledger.flush();
    const calls = await h.store.readLedger({ type: 'tool.call' });
    expect(calls.map((c) => c.verdict)).toEqual(['approve', 'allow']);
  });

  it('does not run the call when the person refuses in the client', async () => {
    const log: ServerLog = { calls: [], cancelled: [] };
    const h = await harness({
      agent: 'junior-bot',
      extensions: await withApprovals(),
      upstreams: [memoryUpstream('mem', () => buildServer(log))],
      elicit: () => ({ action: 'decline' }),
    });
    open.push(h);
    const r = await h.client.callTool({ name: 'write_note', arguments: { path: 'x' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/refused approval/);
    expect(log.calls).toEqual([]);
  });

  it('without elicitation, waits on the approvals queue: granted runs, refused does not', async () => {
    const log: ServerLog = { calls: [], cancelled: [] };
    const h = await harness({
      agent: 'junior-bot',
      extensions: await withApprovals(),
      upstreams: [memoryUpstream('mem', () => buildServer(log))],
    });
    open.push(h);
    const api = h.warden.runtime.service<ApprovalsApi>('approvals.api')!;
    const progress: number[] = [];
    const first = h.client.callTool({ name: 'write_note', arguments: { path: 'a' } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
      resetTimeoutOnProgress: true,
    });
    const id = await pendingApproval(h);
    await new Promise((r) => setTimeout(r, 120));
    expect(log.calls).toEqual([]);
    await api.approve(id, 'dana', 'fine');
    expect(textOf(await first)).toBe('wrote a');
    expect(progress.length).toBeGreaterThan(0);

    const second = h.client.callTool({ name: 'write_note', arguments: { path: 'b' } });
    await api.deny(await pendingApproval(h), 'dana', 'not today');
    const refused = await second;
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/refused approval/);
    expect(log.calls).toEqual(['write_note a']);
  });

  it('falls back to a refusal naming the request when no approval service can wait', async () => {
    const log: ServerLog = { calls: [], cancelled: [] };
    // No actions module: the pipeline itself denies calls that need approval.
    const extensions = (await defaultExtensions()).filter((e) => e.name !== 'actions');
    const h = await harness({
      agent: 'junior-bot',
      extensions,
      upstreams: [memoryUpstream('mem', () => buildServer(log))],
    });
    open.push(h);
    const r = await h.client.callTool({ name: 'write_note', arguments: { path: 'a' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/no approval service/);
    expect(log.calls).toEqual([]);
  });

  it('stops a call in flight when a kill switch engages', async () => {
    const log: ServerLog = { calls: [], cancelled: [] };
    const h = await harness({ upstreams: [memoryUpstream('mem', () => buildServer(log))] });
    open.push(h);
    const pending = h.client.callTool({ name: 'hang', arguments: {} });
    await new Promise((r) => setTimeout(r, 30));
    await h.warden.kill('agent', 'senior-bot', 'incident drill', 'test');
    const r = await pending;
    expect(textOf(r)).toMatch(/halted/);
    await new Promise((r2) => setTimeout(r2, 20));
    expect(log.cancelled).toContain('hang');
    const next = await h.client.callTool({ name: 'echo', arguments: { text: 'x' } });
    expect(textOf(next)).toMatch(/halted/);
  });
});
