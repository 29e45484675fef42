import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveTracesUrl } from '../../src/observe/otel/index.js';
import type { Store } from '../../src/store/store.js';
import type { Warden } from '../../src/warden.js';
import { observeWarden } from './helpers.js';

/** OTLP/JSON attribute value. */
interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  attributes?: KeyValue[];
  events?: { name: string; attributes?: KeyValue[] }[];
  status?: { code?: number; message?: string };
}
interface OtlpBody {
  resourceSpans: {
    resource: { attributes: KeyValue[] };
    scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[];
  }[];
}

function plain(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(plain);
  return undefined;
}

function attrs(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, plain(kv.value)]));
}

/** A loopback OTLP/HTTP collector that decodes the JSON encoding. */
async function collector(): Promise<{
  url: string;
  spans: OtlpSpan[];
  resources: Record<string, unknown>[];
  headers: IncomingHttpHeaders[];
  server: Server;
}> {
  const spans: OtlpSpan[] = [];
  const resources: Record<string, unknown>[] = [];
  const headers: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      headers.push(req.headers);
      if (req.url !== '/v1/traces' || !String(req.headers['content-type']).includes('json')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpBody;
      for (const rs of body.resourceSpans) {
        resources.push(attrs(rs.resource.attributes));
        for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    resources,
    headers,
    server,
  };
}

const CONFIG = (observe: string) => `version: 1
agents:
  - { id: deployer, owner: platform, phase: senior }
tools:
  - { name: list_repos, class: read, authoritative: true, server: github }
  - { name: deploy, class: irreversible, identifiers: [repoId] }
maturity:
  senior:
    preApproved:
      - { tool: '*' }
${observe}`;

let open: { warden: Warden; store: Store }[] = [];
let servers: Server[] = [];
const savedEnv = { ...process.env };
function restoreEnv(k: 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'): void {
  const v = savedEnv[k];
  if (v === undefined) Reflect.deleteProperty(process.env, k);
  else process.env[k] = v;
}
afterEach(async () => {
  for (const { warden, store } of open) {
    await warden.close().catch(() => undefined);
    await store.close();
  }
  open = [];
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  servers = [];
  restoreEnv('OTEL_EXPORTER_OTLP_ENDPOINT');
  restoreEnv('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
});

// Configs here give exports a long timeout: it is a hang guard, and an export cut short on a loaded machine
// would drop the spans the tests look for.
async function make(config: string) {
  const w = await observeWarden(config);
  open.push(w);
  return w;
}

describe('OpenTelemetry export', () => {
  it('exports each decision as a span with the GenAI conventions and Warden attributes', async () => {
    const c = await collector();
    servers.push(c.server);
    const { warden, observe } = await make(
      CONFIG(`observe:
  telemetry: { otlpEndpoint: '${c.url}', serviceName: warden-test, headers: { x-api-key: collector-key }, scheduledDelayMs: 20, timeoutMs: 30000 }
`),
    );
    expect(observe.telemetry).toBe(true);
    const s = warden.session({ agent: 'deployer', user: 'dana', task: 'ship' });
    const call = { tool: 'list_repos', server: 'github', args: { org: 'acme' }, callId: 'call-1' };
    expect((await s.authorize(call)).verdict).toBe('allow');
    const recorded = await s.record(call, [{ id: 'repo-1' }]);
    const denied = await s.authorize({ tool: 'drop_db', args: {}, callId: 'call-2' });
    expect(denied.verdict).toBe('deny');
    await s.ingest({ source: 'user', text: 'ship it' });
    await observe.flush();

    expect(c.resources[0]).toMatchObject({ 'service.name': 'warden-test' });
    expect(c.headers[0]?.['x-api-key']).toBe('collector-key');

    const tool = c.spans.find((sp) => sp.name === 'execute_tool list_repos');
    expect(tool).toBeDefined();
    expect(attrs(tool!.attributes)).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'list_repos',
      'gen_ai.tool.call.id': 'call-1',
      'gen_ai.agent.id': 'deployer',
      'gen_ai.conversation.id': s.id,
      'mcp.method.name': 'tools/call',
      'mcp.session.id': s.id,
      'warden.mcp.server': 'github',
      'warden.decision': 'allow',
      'warden.tool.class': 'read',
      'warden.user': 'dana',
      'warden.task': 'ship',
    });
    // One span from the call to its result: the result decision is an event on it.
    const result = tool!.events?.find((e) => e.name === 'warden.result');
    expect(attrs(result?.attributes)).toMatchObject({
      'warden.decision': 'allow',
      'warden.event.id': recorded.eventId,
    });
    expect(c.spans.filter((sp) => sp.name === 'execute_tool list_repos')).toHaveLength(1);

    const deny = c.spans.find((sp) => sp.name === 'execute_tool drop_db');
    expect(attrs(deny!.attributes)).toMatchObject({
      'warden.decision': 'deny',
      'warden.controls': ['unknown-tool'],
      'warden.risks': ['ASI02'],
      'warden.domains': [3],
      'error.type': 'warden.deny',
    });
    expect((attrs(deny!.attributes)['warden.reasons'] as string[])[0]).toMatch(/not declared/);
    expect(deny!.status?.code).toBe(2);

    const ingest = c.spans.find((sp) => sp.name === 'warden.ingest');
    expect(attrs(ingest!.attributes)).toMatchObject({
      'warden.event.kind': 'ingest',
      'warden.content.source': 'user',
      'warden.decision': 'allow',
    });
  });

  it('exports alerts as spans', async () => {
    const c = await collector();
    servers.push(c.server);
    const { warden, observe } = await make(
      CONFIG(`observe:
  telemetry: { otlpEndpoint: '${c.url}/v1/traces', scheduledDelayMs: 20, timeoutMs: 30000 }
`),
    );
    await warden.session({ agent: 'deployer' }).authorize({ tool: 'deploy', args: { repoId: 'made-up-7' } });
    await observe.flush();
    const alert = c.spans.find((sp) => sp.name === 'warden.alert unverified-target');
    expect(attrs(alert!.attributes)).toMatchObject({
      'warden.alert.rule': 'unverified-target',
      'warden.alert.severity': 'high',
      'gen_ai.agent.id': 'deployer',
    });
  });

  it('is off by default, turns on with OTEL_EXPORTER_OTLP_ENDPOINT, and `enabled: false` wins over the environment', async () => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    expect((await make(CONFIG(''))).observe.telemetry).toBe(false);

    const c = await collector();
    servers.push(c.server);
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = c.url;
    const on = await make(CONFIG(''));
    expect(on.observe.telemetry).toBe(true);
    await on.warden.session({ agent: 'deployer' }).authorize({ tool: 'list_repos', args: {} });
    await on.observe.flush();
    expect(c.spans.some((sp) => sp.name === 'execute_tool list_repos')).toBe(true);

    expect((await make(CONFIG('observe:\n  telemetry: { enabled: false }\n'))).observe.telemetry).toBe(false);
  });

  it('resolves the traces URL from config and the standard environment variables', () => {
    expect(resolveTracesUrl('http://c:4318', {})).toBe('http://c:4318/v1/traces');
    expect(resolveTracesUrl('http://c:4318/', {})).toBe('http://c:4318/v1/traces');
    expect(resolveTracesUrl('http://c:4318/v1/traces', {})).toBe('http://c:4318/v1/traces');
    expect(resolveTracesUrl(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://e:4318' })).toBe(
      'http://e:4318/v1/traces',
    );
    expect(
      resolveTracesUrl(undefined, {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:1/x',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://e',
      }),
    ).toBe('http://t:1/x');
    expect(resolveTracesUrl(undefined, {})).toBeUndefined();
  });
});
