import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { z } from 'zod';
import { parseConfig } from '../src/config/load.js';
import { GatewayConnection } from '../src/gateway/router.js';
import { SecretStripper } from '../src/gateway/secrets.js';
import { isolatingFetch } from '../src/gateway/transports.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { createWarden } from '../src/warden.js';
import { measureAsync, round } from './measure.js';
import type { BenchResult } from './types.js';

const ROOT = resolve(import.meta.dirname, '..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const FIXTURE = join(ROOT, 'test/fixtures/mcp-fixture-server.ts');
const NODE = process.execPath;

const CONFIG = `version: 1
agents:
  - { id: bench, owner: bench, phase: senior }
tools:
  - { name: echo, class: read, tier: 1 }
store: { path: .warden/bench.db }
`;

const LATENCY_SAMPLES = 3_000;
const THROUGHPUT_CALLS = 20_000;
const CONCURRENCY = 64;

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => {
        done(port);
      });
    });
  });
}

function spawnReady(args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(NODE, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      fail(new Error(`not ready: ${out}`));
    }, 30_000);
    const on = (c: Buffer) => {
      out += c.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        done(child);
      }
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((done) => {
    child.once('exit', () => {
      done();
    });
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}

async function connect(transport: Transport): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  return client;
}

/** Latency of sequential calls, then throughput with many calls in flight. */
async function measure(name: string, client: Client, notes: string): Promise<BenchResult[]> {
  const call = (i: number) => client.callTool({ name: 'echo', arguments: { text: `call ${i}` } });
  const latency = await measureAsync(`${name}: latency (sequential)`, call, {
    samples: LATENCY_SAMPLES,
    warmup: 300,
    notes,
  });
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < THROUGHPUT_CALLS) await call(next++);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const throughput: BenchResult = {
    name: `${name}: throughput (${CONCURRENCY} in flight)`,
    unit: 'ops/s',
    opsPerSec: Math.round(THROUGHPUT_CALLS / seconds),
    samples: THROUGHPUT_CALLS,
    notes,
  };
  return [latency, throughput];
}

function added(label: string, direct: BenchResult[], gateway: BenchResult[]): BenchResult {
  const [dl, dt] = direct;
  const [gl, gt] = gateway;
  const p50 = round((gl?.p50Us ?? NaN) - (dl?.p50Us ?? NaN));
  const p99 = round((gl?.p99Us ?? NaN) - (dl?.p99Us ?? NaN));
  const ratio = (gt?.opsPerSec ?? 0) / (dt?.opsPerSec ?? 1);
  return {
    name: `gateway ${label}: added latency`,
    unit: 'ops/s',
    opsPerSec: gt?.opsPerSec ?? 0,
    p50Us: p50,
    p99Us: p99,
    samples: LATENCY_SAMPLES,
    notes: `p50/p99 = gateway minus direct; throughput through the gateway ${(ratio * 100).toFixed(0)}% of direct (budget: +300 µs p50, +1000 µs p99, > 5,000 calls/s)`,
  };
}

function echoServer(): McpServer {
  const server = new McpServer({ name: 'echo', version: '1' });
  server.registerTool(
    'echo',
    { description: 'Echoes the text back.', inputSchema: { text: z.string() } },
    ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

/**
 * The gateway's own cost without processes or pipes: client and server in memory, directly and through the
 * router with the full pipeline and the SQLite ledger. Less noisy than the process runs on a busy machine.
 */
async function inProcess(dir: string): Promise<BenchResult[]> {
  const store = await openSqliteStore({ path: join(dir, 'inprocess.db') });
  const warden = await createWarden({ config: parseConfig(CONFIG), store });
  const [c1, s1] = InMemoryTransport.createLinkedPair();
  await echoServer().connect(s1);
  const direct = await connect(c1);
  const conn = new GatewayConnection({
    warden,
    agent: 'bench',
    upstreams: [
      {
        name: 'echo',
        kind: 'stdio',
        timeoutMs: 10_000,
        restart: { maxRestarts: 0, windowMs: 1_000 },
        connect: () => {
          const [g, s] = InMemoryTransport.createLinkedPair();
          void echoServer().connect(s);
          return g;
        },
      },
    ],
    settings: {
      namespace: 'auto',
      unknownTools: 'hide',
      poisoned: 'hide',
      pinning: 'first-use',
      approvals: { via: 'queue', timeoutMs: 1_000, progressIntervalMs: 1_000 },
      maxTools: 1_000,
      maxInFlight: 1_000,
    },
    secrets: new SecretStripper(),
    log: () => undefined,
  });
  const [c2, g2] = InMemoryTransport.createLinkedPair();
  await conn.connect(g2);
  const via = await connect(c2);
  const d = await measure('in-process direct', direct, 'SDK client → server, in memory');
  const g = await measure(
    'in-process via gateway',
    via,
    'SDK client → gateway router (authorize, record, ledger) → server, in memory',
  );
  await via.close();
  await direct.close();
  await conn.close();
  await warden.close();
  await store.close();
  return [...d, ...g, added('in-process', d, g)];
}

/**
 * The same `echo` tool call (test/fixtures/mcp-fixture-server.ts) made directly and through `warden gateway`
 * (full pipeline: authorize, record, ledger in SQLite), over stdio and over streamable HTTP, in one run.
 */
export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-gw-'));
  const config = join(dir, 'warden.yaml');
  writeFileSync(config, CONFIG);
  const results: BenchResult[] = [];
  const children: ChildProcess[] = [];
  try {
    results.push(...(await inProcess(dir)));
    // stdio: client → server, and client → gateway → server.
    const direct = await connect(
      new StdioClientTransport({
        command: NODE,
        args: ['--import', 'tsx', FIXTURE],
        cwd: ROOT,
        stderr: 'ignore',
      }),
    );
    const directStdio = await measure('stdio direct', direct, 'SDK client → fixture server');
    await direct.close();
    const viaGw = await connect(
      new StdioClientTransport({
        command: NODE,
        args: [
          '--import',
          'tsx',
          MAIN,
          '--config',
          config,
          'gateway',
          '--agent',
          'bench',
          '--name',
          'fixture',
          '--',
          NODE,
          '--import',
          'tsx',
          FIXTURE,
        ],
        cwd: ROOT,
        stderr: 'ignore',
      }),
    );
    const gatewayStdio = await measure(
      'stdio via gateway',
      viaGw,
      'SDK client → warden gateway (stdio) → fixture server',
    );
    await viaGw.close();
    results.push(...directStdio, ...gatewayStdio, added('stdio', directStdio, gatewayStdio));

    // streamable HTTP: client → server, and client → gateway (--listen) → server (--upstream).
    const [upPort, gwPort] = await Promise.all([freePort(), freePort()]);
    children.push(
      await spawnReady(['--import', 'tsx', FIXTURE], /started http/, { FIXTURE_HTTP_PORT: String(upPort) }),
    );
    children.push(
      await spawnReady(
        [
          '--import',
          'tsx',
          MAIN,
          '--config',
          config,
          'gateway',
          '--agent',
          'bench',
          '--name',
          'fixture',
          '--upstream',
          `http://127.0.0.1:${upPort}/mcp`,
          '--listen',
          `127.0.0.1:${gwPort}`,
        ],
        /listening on http/,
      ),
    );
    // The SDK's HTTP client leaks abort listeners under load (see isolatingFetch); both clients get the fix.
    const directHttp = await connect(
      new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${upPort}/mcp`), {
        fetch: isolatingFetch(),
      }),
    );
    const dH = await measure('http direct', directHttp, 'SDK client → fixture server (streamable HTTP)');
    await directHttp.close();
    const gwHttp = await connect(
      new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${gwPort}/mcp`), {
        fetch: isolatingFetch(),
      }),
    );
    const gH = await measure(
      'http via gateway',
      gwHttp,
      'SDK client → warden gateway (HTTP) → fixture server (HTTP)',
    );
    await gwHttp.close();
    results.push(...dH, ...gH, added('http', dH, gH));
  } finally {
    for (const c of children) await stop(c);
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
