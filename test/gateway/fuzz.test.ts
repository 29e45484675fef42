import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical.js';
import { GatewayConnection } from '../../src/gateway/router.js';
import { SecretStripper } from '../../src/gateway/secrets.js';
import { defaultExtensions } from '../../src/pipeline/default-extensions.js';
import type { Extension } from '../../src/pipeline/runtime.js';
import type { Store } from '../../src/store/store.js';
import type { Warden } from '../../src/warden.js';
import { testWarden } from '../helpers/warden.js';
import {
  buildServer,
  GATEWAY_CONFIG,
  memoryUpstream,
  recordingTransport,
  SETTINGS,
  type ServerLog,
} from './helpers.js';

function keyOf(tool: unknown, args: unknown): string {
  try {
    return `${String(tool)}\u0000${canonicalJson(args ?? {})}`;
  } catch {
    return `${String(tool)}\u0000(uncanonical)`;
  }
}

/** Every allowed tool.call decision, by tool and canonical arguments, counted. */
const allowed = new Map<string, number>();
const spy: Extension = {
  name: 'fuzz-spy',
  setup: () => [],
  onDecision(ctx, decision) {
    if (ctx.event.kind !== 'tool.call' || decision.verdict !== 'allow') return;
    const k = keyOf(ctx.event.call.tool, ctx.event.call.args);
    allowed.set(k, (allowed.get(k) ?? 0) + 1);
  },
};

const violations: string[] = [];
const replies: JSONRPCMessage[] = [];
let warden: Warden;
let store: Store;
let conn: GatewayConnection;
const serverLog: ServerLog = { calls: [], cancelled: [] };

beforeAll(async () => {
  ({ warden, store } = await testWarden(GATEWAY_CONFIG, {
    extensions: [...(await defaultExtensions()), spy],
  }));
  const sent: JSONRPCMessage[] = [];
  const upstream = memoryUpstream('mem', () => buildServer(serverLog, { extraTools: ['search'] }), {
    timeoutMs: 300,
    sent,
  });
  // Checks each message as the gateway sends it upstream: a tools/call must match an allowed decision.
  sent.push = (...items: JSONRPCMessage[]) => {
    for (const m of items) {
      if ('method' in m && m.method === 'tools/call') {
        const p = (m.params ?? {}) as Record<string, unknown>;
        const k = keyOf(p.name, p.arguments);
        const n = allowed.get(k) ?? 0;
        if (n <= 0)
          violations.push(`tools/call reached the server without an allowed decision: ${k.slice(0, 200)}`);
        else allowed.set(k, n - 1);
      }
    }
    return 0;
  };
  conn = new GatewayConnection({
    warden,
    agent: 'senior-bot',
    upstreams: [upstream],
    settings: { ...SETTINGS, approvals: { via: 'queue', timeoutMs: 200, progressIntervalMs: 50 } },
    secrets: new SecretStripper(['fuzz-secret-value']),
    log: () => undefined,
  });
  await conn.connect(recordingTransport(replies));
  conn.fromClient({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '0' } },
  });
  await new Promise((r) => setTimeout(r, 100));
  conn.fromClient({ jsonrpc: '2.0', method: 'notifications/initialized' });
});

afterAll(async () => {
  await conn.close();
  await warden.close();
  await store.close();
});

const id = fc.oneof(
  fc.integer({ min: -2, max: 6 }),
  fc.constantFrom('a', 'b', ''),
  fc.constant(null),
  fc.double(),
  fc.string({ maxLength: 5 }),
  fc.object(),
);
const method = fc.oneof(
  fc.constantFrom(
    'tools/call',
    'tools/call',
    'tools/call',
    'tools/list',
    'resources/read',
    'resources/list',
    'prompts/get',
    'prompts/list',
    'ping',
    'initialize',
    'completion/complete',
    'logging/setLevel',
    'tasks/get',
    'tasks/result',
    'notifications/cancelled',
    'notifications/initialized',
    'notifications/progress',
    'notifications/roots/list_changed',
  ),
  fc.string({ maxLength: 12 }),
);
const toolName = fc.oneof(
  fc.constantFrom('echo', 'write_note', 'hang', 'slow', 'search', 'not_declared', 'mem__echo'),
  fc.string({ maxLength: 8 }),
  fc.integer(),
);
const args = fc.oneof(
  fc.record({ text: fc.string({ maxLength: 10 }) }),
  fc.record({ path: fc.string({ maxLength: 10 }) }),
  fc.record({ steps: fc.integer({ min: 0, max: 3 }) }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 })),
  fc.anything({ maxDepth: 2 }),
);
const params = fc.oneof(
  fc.record(
    {
      name: toolName,
      arguments: args,
      uri: fc.constantFrom('mem://note', 'nope://x'),
      requestId: id,
      _meta: fc.record(
        { progressToken: fc.oneof(fc.integer(), fc.string({ maxLength: 4 })) },
        { requiredKeys: [] },
      ),
      task: fc.constant({ ttl: 100 }),
      protocolVersion: fc.constantFrom('2025-06-18', 'x'),
      capabilities: fc.constant({}),
    },
    { requiredKeys: [] },
  ),
  fc.anything({ maxDepth: 2 }),
);
const wellFormedCall = fc.record({
  jsonrpc: fc.constant('2.0'),
  id: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.string({ minLength: 1, maxLength: 3 })),
  method: fc.constant('tools/call'),
  params: fc.record({ name: toolName, arguments: args }),
});
const cancel = fc.record({
  jsonrpc: fc.constant('2.0'),
  method: fc.constant('notifications/cancelled'),
  params: fc.record({ requestId: fc.integer({ min: 0, max: 40 }), reason: fc.string({ maxLength: 5 }) }),
});
const message = fc.oneof(
  { weight: 4, arbitrary: wellFormedCall },
  { weight: 1, arbitrary: cancel },
  {
    weight: 5,
    arbitrary: fc.record(
      { jsonrpc: fc.constant('2.0'), id, method, params },
      { requiredKeys: ['jsonrpc', 'method'] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({ jsonrpc: fc.constant('2.0'), id, result: fc.anything({ maxDepth: 2 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      jsonrpc: fc.constant('2.0'),
      id,
      error: fc.record({ code: fc.integer(), message: fc.string() }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ jsonrpc: fc.constantFrom('1.0', 2, undefined), id, method, params }) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
);

describe('gateway message handling under fuzzing', () => {
  it('never throws, always answers requests it can read, and never lets a tools/call skip the pipeline', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(message, { maxLength: 25 }), async (messages) => {
        for (const m of messages)
          expect(() => {
            conn.fromClient(m);
          }).not.toThrow();
        await new Promise((r) => setTimeout(r, 5));
      }),
      { numRuns: 150 },
    );
    // Let held and slow calls finish (timeouts are short), then check the invariant over everything sent.
    await new Promise((r) => setTimeout(r, 800));
    expect(violations).toEqual([]);
    // Every reply is a well-formed JSON-RPC message.
    for (const r of replies) expect(r).toMatchObject({ jsonrpc: '2.0' });
    // The fuzzer did reach the server with allowed calls (the property is not vacuous).
    expect(serverLog.calls.length).toBeGreaterThan(0);
  }, 60_000);
});
