import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { isolatingFetch } from './src/gateway/transports.ts';
const url = new URL(process.argv[2]!);
for (const variant of ['plain', 'isolating', 'plain', 'isolating']) {
  const client = new Client({ name: 'c', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(url, variant === 'plain' ? {} : { fetch: isolatingFetch() }));
  const xs: number[] = [];
  for (let i = 0; i < 1200; i++) { const t = process.hrtime.bigint(); await client.callTool({ name: 'echo', arguments: { text: 'x' } }); if (i >= 200) xs.push(Number(process.hrtime.bigint() - t) / 1000); }
  xs.sort((p, q) => p - q);
  console.log(variant, 'p50', xs[Math.floor(xs.length / 2)].toFixed(0), 'p90', xs[Math.floor(xs.length * 0.9)].toFixed(0));
  await client.close();
}
process.exit(0);
