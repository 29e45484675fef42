import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EVERYTHING,
  eventually,
  FIXTURE,
  freePort,
  gatewayArgs,
  httpClient,
  ledgerOf,
  NODE,
  spawnReady,
  textOf,
  workspace,
} from './helpers.js';

type Proc = Awaited<ReturnType<typeof spawnReady>>;
const procs: Proc[] = [];
const clients: Client[] = [];
let everythingGateway: string;
let fixtureGateway: string;
let fixtureDir: string;

beforeAll(async () => {
  const [pEverything, pFixture, pGw1, pGw2] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const ws = workspace('');
  fixtureDir = ws.dir;
  procs.push(
    await spawnReady(NODE, [EVERYTHING, 'streamableHttp'], /listening on port/i, {
      env: { PORT: String(pEverything) },
    }),
  );
  procs.push(
    await spawnReady(NODE, ['--import', 'tsx', FIXTURE], /started http/, {
      env: { FIXTURE_HTTP_PORT: String(pFixture), FIXTURE_LOG: join(ws.dir, 'fixture.log') },
    }),
  );
  // Gateway 1: the everything server over HTTP, for a senior agent.
  const ws1 = workspace('');
  procs.push(
    await spawnReady(
      NODE,
      gatewayArgs(ws1.config, [
        '--agent',
        'senior',
        '--name',
        'everything',
        '--upstream',
        `http://127.0.0.1:${pEverything}/mcp`,
        '--listen',
        `127.0.0.1:${pGw1}`,
      ]),
      /listening on http/,
    ),
  );
  everythingGateway = `http://127.0.0.1:${pGw1}/mcp`;
  // Gateway 2: the fixture over HTTP, for a junior agent whose writes need approval in the client.
  ws.write(`gateway:
  agent: worker
  approvals: { via: elicitation, as: dana }
`);
  procs.push(
    await spawnReady(
      NODE,
      gatewayArgs(ws.config, [
        '--name',
        'fixture',
        '--upstream',
        `http://127.0.0.1:${pFixture}/mcp`,
        '--listen',
        `127.0.0.1:${pGw2}`,
      ]),
      /listening on http/,
    ),
  );
  fixtureGateway = `http://127.0.0.1:${pGw2}/mcp`;
});

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  for (const p of procs.reverse()) await p.stop();
});

async function connect(url: string, capabilities: Record<string, unknown> = {}): Promise<Client> {
  const c = await httpClient(url, capabilities);
  clients.push(c);
  return c;
}

function fixtureLog(): string {
  const f = join(fixtureDir, 'fixture.log');
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

describe('gateway over streamable HTTP (both sides)', () => {
  it('passes the everything server through: tools, a read call, resources, prompts, ping, progress', async () => {
    const client = await connect(everythingGateway);
    expect(client.getServerVersion()).toMatchObject({ name: 'mcp-servers/everything' });
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual([
      'echo',
      'get-sum',
      'trigger-long-running-operation',
    ]);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'over http' } }))).toMatch(
      /over http/,
    );
    const uri = (await client.listResources()).resources[0]!.uri;
    expect((await client.readResource({ uri })).contents[0]?.uri).toBe(uri);
    const prompt = await client.getPrompt({ name: 'args-prompt', arguments: { city: 'Oslo' } });
    expect(JSON.stringify(prompt.messages)).toContain('Oslo');
    await expect(client.ping()).resolves.toBeDefined();
    const progress: number[] = [];
    await client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 2 } },
      undefined,
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(progress.length).toBe(2);
  });

  it('asks for approval in the client (elicitation over SSE): granted runs, refused does not', async () => {
    let answer: 'accept' | 'decline' = 'accept';
    const prompts: string[] = [];
    const client = await connect(fixtureGateway, { elicitation: {} });
    client.setRequestHandler(ElicitRequestSchema, (req) => {
      prompts.push(req.params.message);
      return answer === 'accept' ? { action: 'accept', content: { approve: true } } : { action: 'decline' };
    });
    const ok = await client.callTool({ name: 'write_note', arguments: { path: 'approved.md', text: 'hi' } });
    expect(textOf(ok)).toBe('wrote approved.md');
    expect(prompts[0]).toMatch(/Tool: write_note on server fixture/);
    answer = 'decline';
    const no = await client.callTool({ name: 'write_note', arguments: { path: 'refused.md', text: 'hi' } });
    expect(no.isError).toBe(true);
    expect(fixtureLog()).toContain('call write_note approved.md');
    expect(fixtureLog()).not.toContain('refused.md');
  });

  it('passes cancellation through to an HTTP upstream', async () => {
    const client = await connect(fixtureGateway);
    const ac = new AbortController();
    const slow = client.callTool({ name: 'slow', arguments: { steps: 200, delayMs: 20 } }, undefined, {
      signal: ac.signal,
    });
    await eventually(() => (fixtureLog().includes('call slow') ? true : undefined));
    ac.abort('stop');
    await expect(slow).rejects.toThrow();
    await eventually(() => (fixtureLog().includes('cancelled slow') ? true : undefined));
    const records = await eventually(async () => {
      const all = await ledgerOf(fixtureDir);
      return all.some((r) => r.type === 'tool.result' && r.tool === 'slow') ? all : undefined;
    });
    expect(records.find((r) => r.type === 'tool.result' && r.tool === 'slow')?.data).toMatchObject({
      isError: true,
    });
  });

  it('answers bad HTTP input with errors and stays up', async () => {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
    });
    const first = await fetch(everythingGateway, { method: 'POST', headers, body: init });
    const sid = first.headers.get('mcp-session-id');
    expect(sid).toBeTruthy();
    await first.body?.cancel();
    const withSession = { ...headers, 'mcp-session-id': sid!, 'mcp-protocol-version': '2025-06-18' };

    const garbage = await fetch(everythingGateway, {
      method: 'POST',
      headers: withSession,
      body: '{not json',
    });
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { error: { code: number } }).error.code).toBe(-32700);

    const huge = await fetch(everythingGateway, {
      method: 'POST',
      headers: withSession,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'ping',
        params: { pad: 'x'.repeat(5 * 1024 * 1024) },
      }),
    });
    expect(huge.status).toBe(413);

    const unknown = await fetch(everythingGateway, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': 'no-such-session' },
      body: init,
    });
    expect(unknown.status).toBe(404);

    // fetch will not override Host, so this one goes through node:http (a DNS-rebinding page would send its own host).
    const rebinding = await new Promise<number>((done, fail) => {
      const u = new URL(everythingGateway);
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          headers: { ...headers, host: 'evil.example' },
        },
        (res) => {
          res.resume();
          done(res.statusCode ?? 0);
        },
      );
      req.once('error', fail);
      req.end(init);
    });
    expect(rebinding).toBe(403);

    const browser = await fetch(everythingGateway, {
      method: 'POST',
      headers: { ...headers, origin: 'https://evil.example' },
      body: init,
    });
    expect(browser.status).toBe(403);

    // Still serving.
    const client = await connect(everythingGateway);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'alive' } }))).toMatch(/alive/);
  });
});
