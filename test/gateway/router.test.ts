import { ToolListChangedNotificationSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildServer,
  harness,
  memoryUpstream,
  recordingTransport,
  textOf,
  type Harness,
  type ServerLog,
} from './helpers.js';

let open: Harness[] = [];
afterEach(async () => {
  for (const h of open) await h.close().catch(() => undefined);
  open = [];
});

async function make(...args: Parameters<typeof harness>): Promise<Harness> {
  const h = await harness(...args);
  open.push(h);
  return h;
}

function newLog(): ServerLog {
  return { calls: [], cancelled: [] };
}

async function ledger(h: Harness, type?: string) {
  await h.warden.runtime.ledger.flush();
  return h.store.readLedger(type === undefined ? {} : { type });
}

describe('gateway pass-through', () => {
  it('passes initialize, resources, prompts and pings through, and filters tools', async () => {
    const log = newLog();
    const h = await make({ upstreams: [memoryUpstream('mem', () => buildServer(log))] });
    expect(h.client.getServerVersion()).toMatchObject({ name: 'mem' });
    expect(h.client.getServerCapabilities()?.tools).toBeDefined();

    const tools = (await h.client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual(['echo', 'env_secret', 'hang', 'slow', 'write_note']);

    const echo = await h.client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    expect(textOf(echo)).toBe('hi');
    expect(log.calls).toContain('echo hi');

    const res = await h.client.readResource({ uri: 'mem://note' });
    expect(res.contents[0]).toMatchObject({ uri: 'mem://note', text: 'a note' });
    const prompt = await h.client.getPrompt({ name: 'greet', arguments: { name: 'ada' } });
    expect(JSON.stringify(prompt.messages)).toContain('hello ada');
    expect((await h.client.listPrompts()).prompts.map((p) => p.name)).toEqual(['greet']);
    await expect(h.client.ping()).resolves.toBeDefined();

    const calls = await ledger(h, 'tool.call');
    expect(calls.map((r) => [r.tool, r.verdict])).toEqual([['echo', 'allow']]);
    expect((await ledger(h, 'tool.result')).length).toBe(1);
    const ingest = await ledger(h, 'ingest');
    expect(ingest[0]?.data).toMatchObject({ source: 'mcp:mem', ref: 'mem://note' });
  });

  it('denies an Intern write with a readable tool error, and the server never sees it', async () => {
    const log = newLog();
    const h = await make({ agent: 'intern-bot', upstreams: [memoryUpstream('mem', () => buildServer(log))] });
    const tools = (await h.client.listTools()).tools.map((t) => t.name);
    expect(tools).not.toContain('write_note');
    const r = await h.client.callTool({ name: 'write_note', arguments: { path: 'x' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/denied the call to write_note/);
    expect(textOf(r)).toMatch(/Intern/);
    expect(log.calls).toEqual([]);
    const calls = await ledger(h, 'tool.call');
    expect(calls[0]).toMatchObject({ tool: 'write_note', verdict: 'deny' });
  });

  it('hides tools warden.yaml does not declare, unless unknownTools is show; calls are denied either way', async () => {
    const log = newLog();
    const hidden = await make({ upstreams: [memoryUpstream('mem', () => buildServer(log))] });
    expect((await hidden.client.listTools()).tools.map((t) => t.name)).not.toContain('not_declared');
    const r = await hidden.client.callTool({ name: 'not_declared', arguments: {} });
    expect(textOf(r)).toMatch(/not declared/);
    const shown = await make({
      settings: { unknownTools: 'show' },
      upstreams: [memoryUpstream('mem', () => buildServer(log))],
    });
    expect((await shown.client.listTools()).tools.map((t) => t.name)).toContain('not_declared');
    expect((await shown.client.callTool({ name: 'not_declared', arguments: {} })).isError).toBe(true);
    expect(log.calls).toEqual([]);
  });

  it('strips injected secrets from results and keeps them out of the ledger', async () => {
    const secret = 'tok_live_9f8e7d6c5b4a';
    const log = newLog();
    const h = await make({
      secrets: [secret],
      upstreams: [memoryUpstream('mem', () => buildServer(log, { secret }))],
    });
    h.warden.runtime.redactor.addLiterals([secret]);
    const r = await h.client.callTool({ name: 'env_secret', arguments: {} });
    expect(textOf(r)).toBe('token=[REDACTED]');
    const records = await ledger(h);
    expect(JSON.stringify(records)).not.toContain(secret);
  });

  it('forwards progress and cancellation', async () => {
    const log = newLog();
    const h = await make({ upstreams: [memoryUpstream('mem', () => buildServer(log))] });
    const progress: number[] = [];
    const done = await h.client.callTool({ name: 'slow', arguments: { steps: 3 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(textOf(done)).toBe('counted 3');
    expect(progress).toEqual([1, 2, 3]);

    const ac = new AbortController();
    const pending = h.client.callTool({ name: 'slow', arguments: { steps: 50 } }, undefined, {
      signal: ac.signal,
    });
    await new Promise((r) => setTimeout(r, 60));
    ac.abort('changed my mind');
    await expect(pending).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 100));
    expect(log.cancelled).toContain('slow');
    const results = await ledger(h, 'tool.result');
    expect(results.at(-1)?.data).toMatchObject({ isError: true });
  });

  it('answers an upstream that hangs with a timeout error, cancels it there, and keeps serving', async () => {
    const log = newLog();
    const h = await make({ upstreams: [memoryUpstream('mem', () => buildServer(log), { timeoutMs: 150 })] });
    await expect(h.client.callTool({ name: 'hang', arguments: {} })).rejects.toThrow(/did not answer/);
    await new Promise((r) => setTimeout(r, 30));
    expect(log.cancelled).toContain('hang');
    expect(textOf(await h.client.callTool({ name: 'echo', arguments: { text: 'still here' } }))).toBe(
      'still here',
    );
    const results = await ledger(h, 'tool.result');
    expect(results.find((r) => r.tool === 'hang')?.data).toMatchObject({ isError: true });
  });

  it('survives an upstream crash: the call errors, the server restarts, the client hears the list changed', async () => {
    const log = newLog();
    const spec = memoryUpstream('mem', () => buildServer(log));
    const h = await make({ upstreams: [spec] });
    let changed = 0;
    h.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changed++;
    });
    const pending = h.client.callTool({ name: 'hang', arguments: {} });
    await new Promise((r) => setTimeout(r, 20));
    await spec.serverSide()?.close();
    await expect(pending).rejects.toThrow(/exited|dropped/);
    expect(textOf(await h.client.callTool({ name: 'echo', arguments: { text: 'again' } }))).toBe('again');
    expect(changed).toBe(1);
    const results = await ledger(h, 'tool.result');
    expect(results.find((r) => r.tool === 'hang')?.data).toMatchObject({ isError: true });
  });

  it("applies a server's tier as a ceiling on its results", async () => {
    const trusted = await make({ upstreams: [memoryUpstream('mem', () => buildServer(newLog()))] });
    await trusted.client.callTool({ name: 'echo', arguments: { text: 'a' } });
    const capped = await make({
      upstreams: [memoryUpstream('mem', () => buildServer(newLog()), { tier: 3 })],
    });
    await capped.client.callTool({ name: 'echo', arguments: { text: 'a' } });
    expect((await ledger(trusted, 'tool.result'))[0]?.data).toMatchObject({ tier: 1 });
    expect((await ledger(capped, 'tool.result'))[0]?.data).toMatchObject({ tier: 3 });
  });

  it('removes the tasks capability in both directions (task results would bypass the pipeline)', async () => {
    const log = newLog();
    const h = await make({ upstreams: [memoryUpstream('mem', () => buildServer(log))] });
    expect(h.client.getServerCapabilities()?.tasks).toBeUndefined();
  });
});

describe('gateway with several servers', () => {
  it('namespaces colliding names and routes calls, prompts and resources to the right server', async () => {
    const a = newLog();
    const b = newLog();
    const h = await make({
      upstreams: [
        memoryUpstream('alpha', () => buildServer(a, { extraTools: ['search'] })),
        memoryUpstream('beta', () => buildServer(b)),
      ],
      settings: { unknownTools: 'show' },
    });
    expect(h.client.getServerVersion()?.name).toBe('warden-gateway');
    const names = (await h.client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('alpha__echo');
    expect(names).toContain('beta__echo');
    expect(names).toContain('search');
    expect(names).not.toContain('echo');
    await h.client.callTool({ name: 'beta__echo', arguments: { text: 'to beta' } });
    expect(b.calls).toEqual(['echo to beta']);
    expect(a.calls).toEqual([]);
    const prompts = (await h.client.listPrompts()).prompts.map((p) => p.name).sort();
    expect(prompts).toEqual(['alpha__greet', 'beta__greet']);
    const p = await h.client.getPrompt({ name: 'beta__greet', arguments: { name: 'bo' } });
    expect(JSON.stringify(p.messages)).toContain('hello bo');
    const r = await h.client.readResource({ uri: 'mem://note' });
    expect(r.contents[0]).toMatchObject({ text: 'a note' });
    await expect(h.client.ping()).resolves.toBeDefined();
    const calls = await ledger(h, 'tool.call');
    expect(calls[0]?.data).toMatchObject({ server: 'beta' });
  });

  it('prefixes every name with namespace: always', async () => {
    const h = await make({
      settings: { namespace: 'always' },
      upstreams: [memoryUpstream('solo', () => buildServer(newLog()))],
    });
    expect((await h.client.listTools()).tools.map((t) => t.name)).toContain('solo__echo');
  });
});

describe('gateway on bad input', () => {
  async function raw(): Promise<{
    h: Harness;
    replies: JSONRPCMessage[];
    sent: JSONRPCMessage[];
    send: (m: unknown) => Promise<void>;
  }> {
    const sent: JSONRPCMessage[] = [];
    const log = newLog();
    const h = await make({ upstreams: [memoryUpstream('mem', () => buildServer(log), { sent })] });
    // A second, raw client: the router's fromClient with replies captured from a fake transport.
    const replies: JSONRPCMessage[] = [];
    const { GatewayConnection } = await import('../../src/gateway/router.js');
    const conn = new GatewayConnection({
      warden: h.warden,
      agent: 'senior-bot',
      upstreams: [memoryUpstream('mem', () => buildServer(log), { sent })],
      settings: (await import('./helpers.js')).SETTINGS,
      secrets: new (await import('../../src/gateway/secrets.js')).SecretStripper(),
      log: () => undefined,
    });
    await conn.connect(recordingTransport(replies));
    open.push({ ...h, close: async () => conn.close() });
    const send = async (m: unknown) => {
      conn.fromClient(m);
      await new Promise((r) => setTimeout(r, 20));
    };
    return { h, replies, sent, send };
  }

  const init = {
    jsonrpc: '2.0',
    id: 'init',
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
  };

  it('answers malformed messages, unknown methods, early requests and reused ids with JSON-RPC errors', async () => {
    const { replies, send } = await raw();
    await send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(replies.pop()).toMatchObject({ id: 1, error: { code: -32600 } });
    await send(init);
    expect(replies.pop()).toMatchObject({ id: 'init', result: { serverInfo: { name: 'mem' } } });
    await send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await send({ jsonrpc: '1.0', id: 2, method: 'ping' });
    expect(replies.pop()).toMatchObject({ id: 2, error: { code: -32600 } });
    await send([1, 2, 3]);
    expect(replies.pop()).toMatchObject({ error: { code: -32600 } });
    await send({ jsonrpc: '2.0', id: 3, method: 'tools/destroy_everything' });
    expect(replies.pop()).toMatchObject({ id: 3, error: { code: -32601 } });
    await send({ jsonrpc: '2.0', id: 4, method: 'initialize', params: init.params });
    expect(replies.pop()).toMatchObject({ id: 4, error: { code: -32600 } });
    await send({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'hang', arguments: {} } });
    await send({
      jsonrpc: '2.0',
      id: 5,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'dup' } },
    });
    expect(replies.pop()).toMatchObject({
      id: 5,
      error: { code: -32600, message: expect.stringMatching(/already in use/) },
    });
    await send({
      jsonrpc: '2.0',
      id: 6,
      method: 'tools/call',
      params: { name: 'echo', arguments: 'not an object' },
    });
    expect(replies.pop()).toMatchObject({ id: 6, error: { code: -32602 } });
    await send({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'echo', arguments: {}, task: { ttl: 1000 } },
    });
    expect(replies.pop()).toMatchObject({ id: 7, error: { code: -32602 } });
  });

  it('drops responses to requests never sent and never forwards a tools/call that skipped the pipeline', async () => {
    const { replies, sent, send } = await raw();
    await send(init);
    await send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    replies.length = 0;
    await send({ jsonrpc: '2.0', id: 999, result: {} });
    await send({ jsonrpc: '2.0', id: 'x', error: { code: 1, message: 'nobody asked' } });
    await send({
      jsonrpc: '2.0',
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'as a notification' } },
    });
    await send({ jsonrpc: '2.0', method: 'notifications/tools/call', params: { name: 'echo' } });
    expect(replies).toEqual([]);
    const upstreamCalls = sent.filter((m) => 'method' in m && m.method === 'tools/call');
    expect(upstreamCalls).toEqual([]);
  });
});
