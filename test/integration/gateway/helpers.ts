import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { LedgerRecord } from '../../../src/store/store.js';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const MAIN = join(ROOT, 'src/cli/main.ts');
export const FIXTURE = join(ROOT, 'test/fixtures/mcp-fixture-server.ts');
export const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
export const FILESYSTEM = join(ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
export const MEMORY = join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js');
export const NODE = process.execPath;

/** Tools of the three npm servers and the fixture, as an operator would declare them. */
export const BASE_TOOLS = `tools:
  - { name: echo, class: read, tier: 1 }
  - { name: get-sum, class: read, tier: 1 }
  - { name: trigger-long-running-operation, class: read, tier: 1 }
  - { name: read_text_file, class: read, tier: 2 }
  - { name: list_directory, class: read, tier: 2 }
  - { name: write_file, class: write }
  - { name: read_graph, class: read, tier: 1 }
  - { name: create_entities, class: write, tier: 1 }
  - { name: write_note, class: write, tier: 1 }
  - { name: slow, class: read, tier: 1 }
  - { name: hang, class: read, tier: 1 }
  - { name: crash, class: read, tier: 1 }
  - { name: env_secret, class: read, tier: 1 }
  - { name: add_numbers, class: read, tier: 1 }
  - { name: web_lookup, class: read }
`;

/** A temp directory with a warden.yaml; returns its path and the config path. */
export function workspace(body: string): { dir: string; config: string; write(body: string): void } {
  const dir = mkdtempSync(join(tmpdir(), 'warden-gw-'));
  const config = join(dir, 'warden.yaml');
  const write = (b: string) => {
    writeFileSync(
      config,
      `version: 1
agents:
  - { id: reader, owner: alice, phase: intern }
  - { id: worker, owner: bob, phase: junior }
  - { id: senior, owner: carol, phase: senior }
${BASE_TOOLS}approvals:
  approvers: [{ name: dana }]
trust:
  verification: { unverified: approve }
store: { path: .warden/warden.db }
${b}`,
    );
  };
  write(body);
  return { dir, config, write };
}

/** The gateway CLI as a command line (tsx runs the TypeScript sources). */
export function gatewayArgs(config: string, args: string[]): string[] {
  return ['--import', 'tsx', MAIN, '--config', config, 'gateway', ...args];
}

/** An SDK client talking to a stdio gateway it launched. `stderr` collects the gateway's diagnostics. */
export async function stdioGateway(
  config: string,
  args: string[],
  options: { env?: Record<string, string>; capabilities?: Record<string, unknown> } = {},
): Promise<{ client: Client; stderr: string[]; transport: StdioClientTransport }> {
  const transport = new StdioClientTransport({
    command: NODE,
    args: gatewayArgs(config, args),
    cwd: ROOT,
    env: options.env ?? {},
    stderr: 'pipe',
  });
  const stderr: string[] = [];
  transport.stderr?.on('data', (c: Buffer) => stderr.push(c.toString()));
  const client = new Client(
    { name: 'it-client', version: '1.0.0' },
    { capabilities: options.capabilities ?? {} },
  );
  await client.connect(transport);
  return { client, stderr, transport };
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => {
        resolvePort(port);
      });
    });
  });
}

/** A child process that is ready once a line on stderr or stdout matches. */
export async function spawnReady(
  command: string,
  args: string[],
  ready: RegExp,
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<{ child: ChildProcess; output: string[]; stop(): Promise<void> }> {
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${args.join(' ')} not ready in time: ${output.join('')}`));
    }, 30_000);
    const on = (c: Buffer) => {
      output.push(c.toString());
      if (ready.test(output.join(''))) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${output.join('')}`));
    });
  });
  return {
    child,
    output,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) {
          done();
          return;
        }
        child.once('exit', () => {
          done();
        });
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

/** An SDK client over streamable HTTP. */
export async function httpClient(url: string, capabilities: Record<string, unknown> = {}): Promise<Client> {
  const client = new Client({ name: 'it-http-client', version: '1.0.0' }, { capabilities });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

/** Every ledger record in a workspace's store. */
export async function ledgerOf(dir: string): Promise<LedgerRecord[]> {
  const store = await openSqliteStore({ path: join(dir, '.warden/warden.db') });
  try {
    return await store.readLedger();
  } finally {
    await store.close();
  }
}

/** Text of a tool result. */
export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('\n');
}

/** Polls until `check` returns a value, or fails after `ms`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
