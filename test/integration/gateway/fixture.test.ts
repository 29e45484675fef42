import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventually,
  FIXTURE,
  gatewayArgs,
  ledgerOf,
  NODE,
  ROOT,
  stdioGateway,
  textOf,
  workspace,
} from './helpers.js';

let clients: Client[] = [];
afterEach(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  clients = [];
});

/** gateway.servers with the fixture, in a given variant. */
function fixtureServers(dir: string, variant: string, extra = ''): string {
  return `gateway:
  agent: senior
  requestTimeoutMs: 1500
  startTimeoutMs: 60000
  servers:
    - name: fixture
      command: ${JSON.stringify(NODE)}
      args: ['--import', 'tsx', ${JSON.stringify(FIXTURE)}]
      env:
        FIXTURE_VARIANT: ${variant}
        FIXTURE_LOG: ${JSON.stringify(join(dir, 'fixture.log'))}
        FIXTURE_SECRET: { fromEnv: GW_TEST_SECRET }
${extra}`;
}

const SECRET = 'sk-test-Zq8fixtureSecretValue123456';

async function connect(config: string): Promise<Client> {
  const { client } = await stdioGateway(config, [], { env: { GW_TEST_SECRET: SECRET } });
  clients.push(client);
  return client;
}

function fixtureLog(dir: string): string {
  const f = join(dir, 'fixture.log');
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

describe('gateway with the fixture server', () => {
  it('catches a rug pull between runs: the changed tool is hidden and denied until re-approved', async () => {
    const ws = workspace('');
    ws.write(fixtureServers(ws.dir, 'v1'));
    const first = await connect(ws.config);
    expect((await first.listTools()).tools.map((t) => t.name)).toContain('echo');
    expect(textOf(await first.callTool({ name: 'echo', arguments: { text: 'run one' } }))).toBe('run one');
    await first.close();

    ws.write(fixtureServers(ws.dir, 'v2'));
    const second = await connect(ws.config);
    const names = (await second.listTools()).tools.map((t) => t.name);
    expect(names).not.toContain('echo');
    expect(names).toContain('write_note');
    const r = await second.callTool({ name: 'echo', arguments: { text: 'run two' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/changed since it was approved/);
    expect(fixtureLog(ws.dir)).not.toContain('call echo run two');
    await second.close();

    // A person reviews and approves the new definition with the CLI.
    const approve = spawn(
      NODE,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/cli/main.ts'),
        '--config',
        ws.config,
        'gateway',
        'pins',
        'approve',
        'fixture/echo',
        '--as',
        'dana',
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    approve.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((r) => approve.once('exit', r));
    expect(code).toBe(0);
    expect(out).toMatch(/approved fixture\/echo/);

    const third = await connect(ws.config);
    expect(textOf(await third.callTool({ name: 'echo', arguments: { text: 'run three' } }))).toBe(
      'run three',
    );
    const records = await ledgerOf(ws.dir);
    expect(records.filter((x) => x.type === 'gateway.tool.changed').length).toBe(1);
    expect(records.some((x) => x.type === 'alert' && JSON.stringify(x.data).includes('tool-rug-pull'))).toBe(
      true,
    );
  });

  it('hides and denies a poisoned tool, and records the finding', async () => {
    const ws = workspace('');
    ws.write(fixtureServers(ws.dir, 'poisoned'));
    const client = await connect(ws.config);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('echo');
    expect(names).not.toContain('add_numbers');
    const r = await client.callTool({
      name: 'add_numbers',
      arguments: { a: 1, b: 2, sidenote: 'my ssh key' },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/looks poisoned/);
    expect(fixtureLog(ws.dir)).not.toContain('call add_numbers');
    const records = await eventually(async () => {
      const all = await ledgerOf(ws.dir);
      return all.some((x) => x.type === 'tool.call' && x.tool === 'add_numbers') ? all : undefined;
    });
    expect(records.some((x) => x.type === 'gateway.tool.flagged')).toBe(true);
  });

  it('passes cancellation to the server, survives a crash and a hang, strips the injected secret, and loses nothing from the ledger', async () => {
    const ws = workspace('');
    ws.write(fixtureServers(ws.dir, 'v1'));
    const client = await connect(ws.config);

    // Cancellation reaches the upstream.
    const ac = new AbortController();
    const slow = client.callTool({ name: 'slow', arguments: { steps: 100, delayMs: 20 } }, undefined, {
      signal: ac.signal,
    });
    await eventually(() => (fixtureLog(ws.dir).includes('call slow') ? true : undefined));
    ac.abort('the user changed their mind');
    await expect(slow).rejects.toThrow();
    await eventually(() => (fixtureLog(ws.dir).includes('cancelled slow') ? true : undefined));

    // The credential comes from the gateway's environment; the model never sees it.
    const secret = await client.callTool({ name: 'env_secret', arguments: {} });
    expect(textOf(secret)).toBe('my token is [REDACTED]');

    // A hang: the gateway answers with an error after requestTimeoutMs and tells the server to stop.
    await expect(client.callTool({ name: 'hang', arguments: {} })).rejects.toThrow(/did not answer/);
    await eventually(() => (fixtureLog(ws.dir).includes('cancelled hang') ? true : undefined));

    // A crash: the call errors, the gateway stays up and restarts the server for the next call.
    await expect(client.callTool({ name: 'crash', arguments: {} })).rejects.toThrow(/exited|dropped/);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'after the crash' } }))).toBe(
      'after the crash',
    );
    await client.close();

    const records = await eventually(async () => {
      const all = await ledgerOf(ws.dir);
      return all.filter((x) => x.type === 'tool.result').length >= 5 ? all : undefined;
    });
    const results = new Map(
      records.filter((x) => x.type === 'tool.result').map((x) => [x.tool, x.data as { isError?: boolean }]),
    );
    expect(results.get('slow')?.isError).toBe(true);
    expect(results.get('hang')?.isError).toBe(true);
    expect(results.get('crash')?.isError).toBe(true);
    expect(results.get('echo')?.isError).toBeFalsy();
    expect(JSON.stringify(records)).not.toContain(SECRET);
  });

  it('keeps stdout to protocol messages and answers garbage with JSON-RPC errors; an oversized message closes cleanly', async () => {
    const ws = workspace('');
    ws.write(`${fixtureServers(ws.dir, 'v1')}  maxMessageBytes: 4096\n`);
    const child = spawn(NODE, gatewayArgs(ws.config, []), {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', GW_TEST_SECRET: SECRET },
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const lines = () => stdout.split('\n').filter(Boolean);
    const send = (s: string) => child.stdin.write(s + '\n');
    send(
      '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}',
    );
    await eventually(() => (lines().length >= 1 ? true : undefined));
    send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    send('this is not json');
    send('{"jsonrpc":"2.0","id":2,"method":"no/such/method"}');
    send('{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"ok"}}}');
    // Wait for the answer to the last request: the replies to the others come before it.
    await eventually(() =>
      lines().some((l) => (JSON.parse(l) as { id?: unknown }).id === 3) && lines().length >= 4
        ? true
        : undefined,
    );
    const parsed = lines().map(
      (l) => JSON.parse(l) as { id?: unknown; error?: { code: number }; result?: unknown },
    );
    for (const m of parsed) expect(m).toMatchObject({ jsonrpc: '2.0' });
    expect(parsed.find((m) => m.error?.code === -32700)).toBeDefined();
    expect(parsed.find((m) => m.id === 2)?.error?.code).toBe(-32601);
    expect(JSON.stringify(parsed.find((m) => m.id === 3)?.result)).toContain('ok');

    send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 4,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'x'.repeat(10_000) } },
      }),
    );
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(0);
    expect(fixtureLog(ws.dir)).not.toContain('x'.repeat(100));
  });
});
