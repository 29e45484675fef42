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
import { percentile, round } from './measure.js';
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

/** Sequential calls per path; the p99 is the 50th-slowest of them. */
const LATENCY_SAMPLES = 5_000;
/** Calls per path before measuring (JIT, connection pools, the ledger's first batches). */
const WARMUP = 1_000;
/** Calls per throughput round, and rounds per path (alternating, so both see the same machine). */
const THROUGHPUT_CALLS = 10_000;
const ROUNDS = 3;
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

type Call = (i: number) => Promise<unknown>;

function echoCall(client: Client): Call {
  return (i) => client.callTool({ name: 'echo', arguments: { text: `call ${i}` } });
}

async function throughput(call: Call): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < THROUGHPUT_CALLS) await call(next++);
    }),
  );
  return THROUGHPUT_CALLS / (Number(process.hrtime.bigint() - started) / 1e9);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/**
 * The same call made directly and through the gateway, measured in one loop: the two paths alternate call
 * by call (and which goes first alternates too), so load from other processes on a shared machine lands on
 * both alike and the difference of their percentiles is the gateway's own. Throughput alternates by round
 * and reports the median round of each path.
 */
async function compare(
  label: string,
  direct: Client,
  via: Client,
  notes: [string, string],
): Promise<BenchResult[]> {
  const paths: [Call, Call] = [echoCall(direct), echoCall(via)];
  for (let i = 0; i < WARMUP; i++) {
    await paths[0](i);
    await paths[1](i);
  }
  const lat = [new Float64Array(LATENCY_SAMPLES), new Float64Array(LATENCY_SAMPLES)];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
      const t0 = process.hrtime.bigint();
      await (paths[k] as Call)(i);
      (lat[k] as Float64Array)[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
  }
  const rates: [number[], number[]] = [[], []];
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) rates[k]?.push(await throughput(paths[k] as Call));
  }
  const results = [0, 1].map((k): [BenchResult, BenchResult] => {
    const sorted = Array.from(lat[k] as Float64Array).sort((a, b) => a - b);
    const name = `${label} ${k === 0 ? 'direct' : 'via gateway'}`;
    const ops = median(rates[k] ?? []);
    return [
      {
        name: `${name}: latency (sequential)`,
        unit: 'ops/s',
        opsPerSec: Math.round(1e6 / (sorted.reduce((a, b) => a + b, 0) / sorted.length)),
        p50Us: round(percentile(sorted, 50)),
        p99Us: round(percentile(sorted, 99)),
        samples: LATENCY_SAMPLES,
        notes: notes[k] ?? '',
      },
      {
        name: `${name}: throughput (${CONCURRENCY} in flight)`,
        unit: 'ops/s',
        opsPerSec: Math.round(ops),
        samples: THROUGHPUT_CALLS * ROUNDS,
        notes: `median of ${ROUNDS} rounds (${(rates[k] ?? []).map((x) => Math.round(x)).join(' / ')}); ${notes[k] ?? ''}`,
      },
    ];
  });
  const [[dl, dt], [gl, gt]] = results as [[BenchResult, BenchResult], [BenchResult, BenchResult]];
  const ratio = gt.opsPerSec / dt.opsPerSec;
  const added: BenchResult = {
    name: `gateway ${label}: added latency`,
    unit: 'ops/s',
    opsPerSec: gt.opsPerSec,
    p50Us: round((gl.p50Us ?? NaN) - (dl.p50Us ?? NaN)),
    p99Us: round((gl.p99Us ?? NaN) - (dl.p99Us ?? NaN)),
    samples: LATENCY_SAMPLES,
    notes: `p50/p99 = gateway minus direct, calls interleaved in one loop; throughput through the gateway ${(ratio * 100).toFixed(0)}% of direct (budget: +300 µs p50, +1000 µs p99, > 5,000 calls/s)`,
  };
  return [dl, dt, gl, gt, added];
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
  const results = await compare('in-process', direct, via, [
    'SDK client → server, in memory',
    'SDK client → gateway router (authorize, record, ledger) → server, in memory',
  ]);
  await via.close();
  await direct.close();
  await conn.close();
  await warden.close();
  await store.close();
  return results;
}

/**
 * The same `echo` tool call (test/fixtures/mcp-fixture-server.ts) made directly and through `warden gateway`
 * (full pipeline: authorize, record, ledger in SQLite), over stdio and over streamable HTTP, in one run.
 */
export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-gw-'));
  const config = join(dir, 'warden.yaml');
  writeFileSync(config, CONFIG);
  // `node` arguments that run the gateway (from source) for the bench agent, then `rest`.
  const gatewayArgs = (...rest: string[]): string[] => [
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
    ...rest,
  ];
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
    const viaGw = await connect(
      new StdioClientTransport({
        command: NODE,
        args: gatewayArgs('--', NODE, '--import', 'tsx', FIXTURE),
        cwd: ROOT,
        stderr: 'ignore',
      }),
    );
    results.push(
      ...(await compare('stdio', direct, viaGw, [
        'SDK client → fixture server',
        'SDK client → warden gateway (stdio) → fixture server',
      ])),
    );
    await viaGw.close();
    await direct.close();

    // streamable HTTP: client → server, and client → gateway (--listen) → server (--upstream).
    const [upPort, gwPort] = await Promise.all([freePort(), freePort()]);
    children.push(
      await spawnReady(['--import', 'tsx', FIXTURE], /started http/, { FIXTURE_HTTP_PORT: String(upPort) }),
    );
    children.push(
      await spawnReady(
        gatewayArgs('--upstream', `http://127.0.0.1:${upPort}/mcp`, '--listen', `127.0.0.1:${gwPort}`),
        /listening on http/,
      ),
    );
    // The SDK's HTTP client leaks abort listeners under load (see isolatingFetch); both clients get the fix.
    const directHttp = await connect(
      new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${upPort}/mcp`), {
        fetch: isolatingFetch(),
      }),
    );
    const gwHttp = await connect(
      new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${gwPort}/mcp`), {
        fetch: isolatingFetch(),
      }),
    );
    results.push(
      ...(await compare('http', directHttp, gwHttp, [
        'SDK client → fixture server (streamable HTTP)',
        'SDK client → warden gateway (HTTP) → fixture server (HTTP)',
      ])),
    );
    await gwHttp.close();
    await directHttp.close();
  } finally {
    for (const c of children) await stop(c);
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
