import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { GatewayConnection } from './src/gateway/router.ts';
import { listenHttp } from './src/gateway/http-listener.ts';
import { SecretStripper } from './src/gateway/secrets.ts';
import { httpUpstream, isolatingFetch } from './src/gateway/transports.ts';
import { SETTINGS } from './test/gateway/helpers.ts';
import { testWarden } from './test/helpers/warden.ts';
const CONFIG = `version: 1
agents:
  - { id: bench, owner: bench, phase: senior }
tools:
  - { name: echo, class: read, tier: 1 }
`;
function echoServer() { const s = new McpServer({ name: 'e', version: '1' }); s.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => ({ content: [{ type: 'text', text }] })); return s; }
const { warden, store } = await testWarden(CONFIG);
const mem = { name: 'e', kind: 'stdio' as const, timeoutMs: 10000, restart: { maxRestarts: 0, windowMs: 1000 }, connect: () => { const [g, s] = InMemoryTransport.createLinkedPair(); void echoServer().connect(s); return g; } };
const mode = process.argv[2];
let upstreamUrl = '';
if (mode === 'up' || mode === 'both') {
  // an HTTP echo server using the SDK's own transport via our listener is simplest: reuse listenHttp with a no-pipeline? use fixture
  upstreamUrl = process.argv[3]!;
}
const spec = upstreamUrl ? { ...mem, kind: 'http' as const, connect: httpUpstream({ url: upstreamUrl, headers: {} }) } : mem;
const mk = () => new GatewayConnection({ warden, agent: 'bench', upstreams: [spec], settings: SETTINGS, secrets: new SecretStripper(), log: () => {} });
let client: Client;
if (mode === 'listen' || mode === 'both') {
  const l = await listenHttp({ host: '127.0.0.1', port: 0, path: '/mcp', maxSessions: 10, maxMessageBytes: 1 << 22, newConnection: mk, log: () => {} });
  client = new Client({ name: 'c', version: '1' }); await client.connect(new StreamableHTTPClientTransport(new URL(l.url), { fetch: isolatingFetch() }));
} else {
  const conn = mk(); const [a, b] = InMemoryTransport.createLinkedPair(); await conn.connect(b);
  client = new Client({ name: 'c', version: '1' }); await client.connect(a);
}
const xs: number[] = [];
for (let i = 0; i < 1500; i++) { const t = process.hrtime.bigint(); await client.callTool({ name: 'echo', arguments: { text: 'x' } }); if (i >= 300) xs.push(Number(process.hrtime.bigint() - t) / 1000); }
xs.sort((p, q) => p - q);
console.log(mode, 'p50', xs[Math.floor(xs.length / 2)].toFixed(0), 'p90', xs[Math.floor(xs.length * 0.9)].toFixed(0));
process.exit(0);
