import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import { gatewayServerNameSchema, type GatewayServerConfig } from '../../config/sections/gateway.js';
import { approvePin, forgetPin, PIN_COLLECTION, type ToolPin } from '../../gateway/pins.js';
import { Gateway, resolveAgent } from '../../gateway/gateway.js';
import type { Warden } from '../../warden.js';
import {
  CliExit,
  loadConfigOrExit,
  openConfiguredStore,
  toCliExit,
  wardenFor,
  type ConfigOption,
} from '../context.js';
import { EXIT } from '../exit-codes.js';

interface GatewayOpts {
  agent?: string;
  upstream?: string;
  listen?: string;
  name?: string;
  user?: string;
}

const GENERIC_FILES = new Set(['index', 'main', 'cli', 'server', 'start', 'bin']);
const GENERIC_DIRS = new Set(['dist', 'build', 'lib', 'src', 'bin', 'out', 'node_modules']);
/** Words of package runners that come before the package (`pnpm dlx x`, `docker run image`). */
const RUNNER_WORDS = new Set(['run', 'exec', 'dlx', 'x', 'tool']);

/**
 * A stable server name for a command line, so pins survive restarts: the npm package name when one is
 * given (`@scope/server-x@1.2` → `server-x`), else the script's name (or its package directory for
 * `dist/index.js`), else the command.
 */
export function serverNameFor(command: string, args: readonly string[]): string {
  const candidates: string[] = [];
  for (const a of args) {
    if (a.startsWith('-') || RUNNER_WORDS.has(a)) continue;
    const scoped = /^@[A-Za-z0-9._-]+\/([A-Za-z0-9._-]+?)(?:@[^/]*)?$/.exec(a);
    if (scoped?.[1]) {
      candidates.push(scoped[1]);
      break;
    }
    if (a.includes('/') || a.includes('\\') || /\.(?:[cm]?[jt]s|py)$/.test(a)) {
      const parts = a.split(/[\\/]/).filter(Boolean);
      let name = basename(parts.pop() ?? '', extname(a));
      while (GENERIC_FILES.has(name) || GENERIC_DIRS.has(name)) {
        const next = parts.pop();
        if (next === undefined) break;
        name = next;
      }
      candidates.push(name);
      break;
    }
    // A bare word: a package (`npx server-x@1`, `uvx mcp-server-fetch`) or a module (`python -m x`).
    candidates.push(a.replace(/@[^@]*$/, ''));
    break;
  }
  candidates.push(basename(command, extname(command)));
  for (const c of candidates) {
    const clean = c
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/_{2,}/g, '_')
      .replace(/^[-_]+/, '')
      .slice(0, 64);
    if (gatewayServerNameSchema.safeParse(clean).success) return clean;
  }
  return 'upstream';
}

function parseListen(value: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value) ?? /^(\d{1,5})$/.exec(value);
  if (!m)
    throw new CliExit(
      EXIT.usage,
      `--listen takes host:port (for example 127.0.0.1:8931), not ${JSON.stringify(value)}`,
    );
  const host = m.length === 3 ? (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, '') : '127.0.0.1';
  const port = Number(m.length === 3 ? m[2] : m[1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliExit(EXIT.usage, `--listen port ${port} is out of range`);
  return { host, port };
}

function serversFor(warden: Warden, command: string[], opts: GatewayOpts): GatewayServerConfig[] {
  const configured = warden.policy.config.gateway?.servers ?? [];
  if (command.length > 0 && opts.upstream !== undefined)
    throw new CliExit(EXIT.usage, 'give either `-- <command>` or --upstream <url>, not both');
  if (command.length > 0) {
    const [cmd, ...args] = command as [string, ...string[]];
    const name = opts.name ?? serverNameFor(cmd, args);
    if (!gatewayServerNameSchema.safeParse(name).success)
      throw new CliExit(
        EXIT.usage,
        `--name ${JSON.stringify(name)} is not a valid server name (letters, digits, _ and -)`,
      );
    // A gateway.servers entry with the same name supplies env, tier and timeout for the command line.
    const match = configured.find((s) => s.name === name);
    return [
      {
        name,
        command: cmd,
        args,
        env: match?.env ?? {},
        headers: {},
        ...(match?.tier === undefined ? {} : { tier: match.tier }),
        ...(match?.timeoutMs === undefined ? {} : { timeoutMs: match.timeoutMs }),
        ...(match?.cwd === undefined ? {} : { cwd: match.cwd }),
      },
    ];
  }
  if (opts.upstream !== undefined) {
    let url: URL;
    try {
      url = new URL(opts.upstream);
    } catch {
      throw new CliExit(EXIT.usage, `--upstream ${JSON.stringify(opts.upstream)} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new CliExit(EXIT.usage, '--upstream must be an http:// or https:// URL');
    const name = opts.name ?? (serverNameFor(url.hostname, []) || 'upstream');
    const match = configured.find((s) => s.name === name);
    return [
      {
        name,
        url: url.toString(),
        args: [],
        env: {},
        headers: match?.headers ?? {},
        ...(match?.tier === undefined ? {} : { tier: match.tier }),
        ...(match?.timeoutMs === undefined ? {} : { timeoutMs: match.timeoutMs }),
      },
    ];
  }
  if (configured.length === 0) {
    throw new CliExit(
      EXIT.usage,
      'no upstream: run `warden gateway -- <command> [args]`, `warden gateway --upstream <url>`, or list servers under gateway.servers in warden.yaml',
    );
  }
  return configured;
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(sig);
    };
    const onInt = () => {
      on('SIGINT');
    };
    const onTerm = () => {
      on('SIGTERM');
    };
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}

async function serve(command: string[], opts: GatewayOpts, global: ConfigOption): Promise<void> {
  const loaded = loadConfigOrExit(global);
  const warden = await wardenFor(global);
  const log = (line: string) => process.stderr.write(`warden gateway: ${line}\n`);
  let gateway: Gateway | undefined;
  try {
    const agent = resolveAgent(warden, opts.agent);
    const servers = serversFor(warden, command, opts);
    gateway = await Gateway.create({
      warden,
      agent,
      servers,
      baseDir: loaded.baseDir,
      log,
      version: readVersion(),
    });
    if (opts.listen !== undefined) {
      const { host, port } = parseListen(opts.listen);
      const listener = await gateway.listen(host, port);
      log(
        `agent ${agent}, ${servers.length} upstream server(s) (${servers.map((s) => s.name).join(', ')}), listening on ${listener.url}`,
      );
      const sig = await waitForSignal();
      log(`${sig}: shutting down`);
    } else {
      const { closed } = await gateway.serveStdio();
      log(
        `agent ${agent}, ${servers.length} upstream server(s) (${servers.map((s) => s.name).join(', ')}), serving on stdio`,
      );
      await Promise.race([closed, waitForSignal()]);
    }
  } catch (error) {
    throw toCliExit(error);
  } finally {
    await gateway?.close().catch((e: unknown) => log(`close failed: ${String(e)}`));
    await warden.close().catch((e: unknown) => log(`close failed: ${String(e)}`));
    // A child or socket that refuses to die must not keep a gateway alive after its client left.
    setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
  }
}

function readVersion(): string {
  return process.env.npm_package_version ?? '0.1.0';
}

function describePin(body: ToolPin): string {
  const id = `${body.server}/${body.tool}`;
  const approved = body.approved
    ? `${body.approved.digest.slice(0, 12)} (${body.approved.how}, ${body.approved.by})`
    : '-';
  const pending = body.pending
    ? `${body.pending.why}: ${body.pending.digest.slice(0, 12)} since ${new Date(body.pending.seenAt).toISOString()}`
    : '';
  const state = body.pending ? 'WAITING' : 'ok';
  return `${id.padEnd(40)} ${state.padEnd(8)} approved ${approved}${pending ? `  pending ${pending}` : ''}`;
}

function splitId(id: string): { server: string; tool: string } {
  const slash = id.indexOf('/');
  if (slash <= 0 || slash === id.length - 1)
    throw new CliExit(EXIT.usage, `expected SERVER/TOOL, got ${JSON.stringify(id)}`);
  return { server: id.slice(0, slash), tool: id.slice(slash + 1) };
}

/** `warden gateway [-- command args] | --upstream url [--listen host:port]` and `warden gateway pins ...`. */
export function registerGateway(program: Command): void {
  const gateway = program
    .command('gateway')
    .description(
      'run Warden in front of MCP servers, for any MCP client (stdio, or streamable HTTP with --listen)',
    )
    .argument(
      '[command...]',
      'a stdio MCP server to launch, after `--` (for example: -- npx -y @modelcontextprotocol/server-memory)',
    )
    .option('--agent <id>', 'agent the gateway acts for (default: gateway.agent, or the only agent)')
    .option('--upstream <url>', 'front a streamable-HTTP MCP server instead of launching one')
    .option('--listen <host:port>', 'serve clients over streamable HTTP instead of stdio')
    .option(
      '--name <server>',
      'name of the upstream server (pins and namespacing use it; default derived from the command)',
    )
    .option('--user <id>', 'user recorded with every decision')
    .addHelpText(
      'after',
      `
Without \`--\` and --upstream, the servers listed under gateway.servers in warden.yaml are used.
Stdout carries protocol messages only; logs go to stderr. See docs/gateway.md.`,
    )
    .action(async (command: string[], opts: GatewayOpts, cmd: Command) => {
      await serve(command, opts, cmd.optsWithGlobals<ConfigOption>());
    });

  const pins = gateway
    .command('pins')
    .description('tool-definition pins: review rug pulls and flagged definitions');

  pins
    .command('list')
    .description('list pinned tools; WAITING ones are hidden and denied until approved')
    .option('--server <name>', 'only this server')
    .option('--json', 'print JSON')
    .action(async (opts: { server?: string; json?: boolean }, cmd: Command) => {
      const store = await openConfiguredStore(loadConfigOrExit(cmd.optsWithGlobals<ConfigOption>()));
      try {
        const docs = await store.listDocs<ToolPin>(
          PIN_COLLECTION,
          opts.server === undefined ? undefined : `${opts.server}/`,
        );
        if (opts.json) process.stdout.write(JSON.stringify(docs.map((d) => d.body)) + '\n');
        else if (docs.length === 0)
          process.stdout.write('no pinned tools yet (pins are made when a gateway lists tools)\n');
        else for (const d of docs) process.stdout.write(describePin(d.body) + '\n');
      } finally {
        await store.close();
      }
    });

  pins
    .command('show')
    .description('print the approved and the pending definition of one tool, to review before approving')
    .argument('<server/tool>')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { server, tool } = splitId(id);
      const store = await openConfiguredStore(loadConfigOrExit(cmd.optsWithGlobals<ConfigOption>()));
      try {
        const doc = await store.getDoc<ToolPin>(PIN_COLLECTION, `${server}/${tool}`);
        if (!doc) throw new CliExit(EXIT.failed, `no pin for ${id}`);
        process.stdout.write(JSON.stringify(doc.body, null, 2) + '\n');
      } finally {
        await store.close();
      }
    });

  pins
    .command('approve')
    .description(
      'approve the pending definition of SERVER/TOOL (a changed, flagged or new tool) after reviewing it',
    )
    .argument('<server/tool>')
    .option(
      '--digest <prefix>',
      'approve only if the pending definition has this digest (as shown by `pins list`)',
    )
    .option('--as <name>', 'who approves (recorded in the pin and the ledger)', process.env.USER ?? 'cli')
    .action(async (id: string, opts: { digest?: string; as: string }, cmd: Command) => {
      const { server, tool } = splitId(id);
      const global = cmd.optsWithGlobals<ConfigOption>();
      const warden = await wardenFor(global);
      try {
        const out = await approvePin(
          warden.runtime.store,
          server,
          tool,
          opts.as,
          opts.digest === undefined ? {} : { digest: opts.digest },
        );
        if (!out.ok) throw new CliExit(EXIT.failed, out.message);
        await warden.runtime.audit('gateway.pin.approved', {
          data: { server, tool, digest: out.digest, by: opts.as },
        });
        process.stdout.write(
          `approved ${id} at digest ${out.digest.slice(0, 12)}; running gateways re-list their tools\n`,
        );
      } finally {
        await warden.close();
      }
    });

  pins
    .command('forget')
    .description('drop the pin of SERVER/TOOL; the next gateway to see it treats it as new')
    .argument('<server/tool>')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { server, tool } = splitId(id);
      const warden = await wardenFor(cmd.optsWithGlobals<ConfigOption>());
      try {
        const removed = await forgetPin(warden.runtime.store, server, tool);
        if (!removed) throw new CliExit(EXIT.failed, `no pin for ${id}`);
        await warden.runtime.audit('gateway.pin.forgotten', { data: { server, tool } });
        process.stdout.write(`forgot ${id}\n`);
      } finally {
        await warden.close();
      }
    });
}
