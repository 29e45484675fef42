import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createWarden, type Warden } from '../../../src/warden.js';
import {
  EVERYTHING,
  eventually,
  FILESYSTEM,
  gatewayArgs,
  ledgerOf,
  MEMORY,
  NODE,
  ROOT,
  stdioGateway,
  textOf,
  workspace,
} from './helpers.js';

let clients: Client[] = [];
let wardens: Warden[] = [];
afterEach(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  for (const w of wardens) await w.close().catch(() => undefined);
  clients = [];
  wardens = [];
});

describe('stdio gateway in front of the real npm servers', () => {
  it('passes the everything server through faithfully: tools, a read call, resources, prompts, ping, progress, logging', async () => {
    const ws = workspace('');
    const { client } = await stdioGateway(ws.config, ['--agent', 'senior', '--', NODE, EVERYTHING, 'stdio']);
    clients.push(client);
    expect(client.getServerVersion()).toMatchObject({ name: 'mcp-servers/everything' });
    const caps = client.getServerCapabilities();
    expect(caps).toMatchObject({ resources: { subscribe: true }, prompts: {}, completions: {}, logging: {} });
    expect(caps?.tasks).toBeUndefined();

    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual(['echo', 'get-sum', 'trigger-long-running-operation']);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hello' } }))).toMatch(/hello/);
    expect(textOf(await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } }))).toMatch(/5/);

    const resources = await client.listResources();
    expect(resources.resources.length).toBeGreaterThan(0);
    const uri = resources.resources[0]!.uri;
    const read = await client.readResource({ uri });
    expect(read.contents[0]?.uri).toBe(uri);
    expect((await client.listResourceTemplates()).resourceTemplates.length).toBeGreaterThan(0);

    const prompt = await client.getPrompt({ name: 'args-prompt', arguments: { city: 'Lyon' } });
    expect(JSON.stringify(prompt.messages)).toContain('Lyon');
    const completion = await client.complete({
      ref: { type: 'ref/prompt', name: 'completable-prompt' },
      argument: { name: 'department', value: 'E' },
    });
    expect(Array.isArray(completion.completion.values)).toBe(true);
    await expect(client.ping()).resolves.toBeDefined();
    await expect(client.setLoggingLevel('info')).resolves.toBeDefined();

    const progress: number[] = [];
    const long = await client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 3 } },
      undefined,
      {
        onprogress: (p) => progress.push(p.progress),
      },
    );
    expect(textOf(long)).toMatch(/completed/i);
    // The server sends progress 1, 2, 3 and then the result. The SDK client dispatches notifications on a later
    // microtask than responses, so when the last progress and the result arrive in one read, the client drops
    // that progress after the response has removed its handler: that happens with or without the gateway
    // under load. What the gateway owes is the progress, in order, before the result: 1, 2, and 3 at most.
    expect(progress.slice(0, 2)).toEqual([1, 2]);
    expect(progress).toEqual([1, 2, 3].slice(0, progress.length));

    await client.close();
    const records = await eventually(async () => {
      const r = await ledgerOf(ws.dir);
      return r.filter((x) => x.type === 'tool.result').length >= 3 ? r : undefined;
    });
    expect(records.filter((r) => r.type === 'tool.call').map((r) => r.tool)).toEqual([
      'echo',
      'get-sum',
      'trigger-long-running-operation',
    ]);
    expect(records.some((r) => r.type === 'ingest' && (r.data as { ref?: string }).ref === uri)).toBe(true);
  });

  it('denies an Intern write to the filesystem server with a readable error; the file is never written', async () => {
    const ws = workspace('');
    const root = join(ws.dir, 'files');
    mkdirSync(root);
    writeFileSync(join(root, 'hello.txt'), 'hello from disk');
    const { client } = await stdioGateway(ws.config, ['--agent', 'reader', '--', NODE, FILESYSTEM, root]);
    clients.push(client);
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual(['list_directory', 'read_text_file']);
    expect(
      textOf(await client.callTool({ name: 'read_text_file', arguments: { path: join(root, 'hello.txt') } })),
    ).toBe('hello from disk');
    const denied = await client.callTool({
      name: 'write_file',
      arguments: { path: join(root, 'evil.txt'), content: 'x' },
    });
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toMatch(/Warden denied the call to write_file/);
    expect(textOf(denied)).toMatch(/Intern/);
    expect(existsSync(join(root, 'evil.txt'))).toBe(false);
  });

  it('holds a write for approval on the queue: one granted and one refused through the Approvals API', async () => {
    const ws = workspace('');
    const memFile = join(ws.dir, 'memory.jsonl');
    // The memory server reads MEMORY_FILE_PATH; the gateway passes only what gateway.servers says.
    ws.write(`gateway:
  agent: worker
  approvals: { via: queue, progressIntervalMs: 500 }
  servers:
    - name: memory
      command: ${JSON.stringify(NODE)}
      args: [${JSON.stringify(MEMORY)}]
      env: { MEMORY_FILE_PATH: ${JSON.stringify(memFile)} }
`);
    const { client } = await stdioGateway(ws.config, []);
    clients.push(client);
    const approver = await createWarden({ configPath: ws.config });
    wardens.push(approver);
    const api = approver.runtime.service<{
      list(f: { status: string }): Promise<{ request: { id: string; tool: string; args: unknown } }[]>;
      approve(id: string, by: string): Promise<unknown>;
      deny(id: string, by: string, reason: string): Promise<unknown>;
    }>('approvals.api')!;
    const nextPending = () => eventually(async () => (await api.list({ status: 'pending' }))[0]?.request);

    const granted = client.callTool(
      {
        name: 'create_entities',
        arguments: { entities: [{ name: 'Ada', entityType: 'person', observations: ['wrote notes'] }] },
      },
      undefined,
      {
        timeout: 60_000,
      },
    );
    const req = await nextPending();
    expect(req.tool).toBe('create_entities');
    await api.approve(req.id, 'dana');
    const ok = await granted;
    expect(ok.isError).toBeFalsy();
    expect(readFileSync(memFile, 'utf8')).toContain('Ada');

    const refused = client.callTool(
      {
        name: 'create_entities',
        arguments: { entities: [{ name: 'Mallory', entityType: 'person', observations: [] }] },
      },
      undefined,
      {
        timeout: 60_000,
      },
    );
    const second = await nextPending();
    await api.deny(second.id, 'dana', 'not this one');
    const no = await refused;
    expect(no.isError).toBe(true);
    expect(textOf(no)).toMatch(/refused approval/);
    expect(readFileSync(memFile, 'utf8')).not.toContain('Mallory');
  });

  it('puts several servers from gateway.servers behind one connection, namespaced with namespace: always', async () => {
    const ws = workspace('');
    const root = join(ws.dir, 'files');
    mkdirSync(root);
    writeFileSync(join(root, 'a.txt'), 'file a');
    ws.write(`gateway:
  agent: senior
  namespace: always
  servers:
    - { name: fs, command: ${JSON.stringify(NODE)}, args: [${JSON.stringify(FILESYSTEM)}, ${JSON.stringify(root)}] }
    - { name: mem, command: ${JSON.stringify(NODE)}, args: [${JSON.stringify(MEMORY)}], env: { MEMORY_FILE_PATH: ${JSON.stringify(join(ws.dir, 'm.jsonl'))} } }
`);
    const { client } = await stdioGateway(ws.config, []);
    clients.push(client);
    expect(client.getServerVersion()?.name).toBe('warden-gateway');
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual([
      'fs__list_directory',
      'fs__read_text_file',
      'fs__write_file',
      'mem__create_entities',
      'mem__read_graph',
    ]);
    expect(
      textOf(await client.callTool({ name: 'fs__read_text_file', arguments: { path: join(root, 'a.txt') } })),
    ).toBe('file a');
    expect(textOf(await client.callTool({ name: 'mem__read_graph', arguments: {} }))).toMatch(/entities/);
    const records = await eventually(async () => {
      const all = await ledgerOf(ws.dir);
      return all.filter((r) => r.type === 'tool.call').length >= 2 ? all : undefined;
    });
    expect(
      records
        .filter((r) => r.type === 'tool.call')
        .map((r) => [(r.data as { server?: string }).server, r.tool]),
    ).toEqual([
      ['fs', 'read_text_file'],
      ['mem', 'read_graph'],
    ]);
  });

  it('answers a client that writes its requests and closes stdin at once, then exits', async () => {
    const ws = workspace('');
    const lines = [
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'pipe', version: '0' },
        },
      },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'read_graph', arguments: {} } },
    ];
    const child = spawn(NODE, gatewayArgs(ws.config, ['--agent', 'senior', '--', NODE, MEMORY]), {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        MEMORY_FILE_PATH: join(ws.dir, 'm.jsonl'),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stdin.end(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(0);
    const replies = out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id: number; result?: Record<string, unknown> });
    expect(replies.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(JSON.stringify(replies[2]?.result)).toContain('entities');
  });
});
