import { describe, expect, it } from 'vitest';
import { serverNameFor } from '../../src/cli/commands/gateway.js';

describe('warden gateway: server names from a command line', () => {
  it('derives a stable name from the package or script', () => {
    expect(serverNameFor('npx', ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'])).toBe(
      'server-filesystem',
    );
    expect(serverNameFor('npx', ['-y', 'mcp-server-kubernetes@1.2.3'])).toBe('mcp-server-kubernetes');
    expect(serverNameFor('node', ['node_modules/@modelcontextprotocol/server-memory/dist/index.js'])).toBe(
      'server-memory',
    );
    expect(serverNameFor('uvx', ['mcp-server-fetch'])).toBe('mcp-server-fetch');
    expect(serverNameFor('python', ['-m', 'my_server'])).toBe('my_server');
    expect(serverNameFor('/usr/local/bin/my-server', [])).toBe('my-server');
    expect(serverNameFor('pnpm', ['dlx', '@scope/thing@latest'])).toBe('thing');
    expect(serverNameFor('???', [])).toBe('upstream');
  });
});
