/**
 * The gateway as a whole: upstream specs built from config (credentials resolved from the gateway's
 * environment or the store, never from the client), and the two ways to serve a client (stdio, or
 * streamable HTTP with one connection per MCP session).
 */
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import {
  gatewayDefaults,
  type GatewaySection,
  type GatewayServerConfig,
} from '../config/sections/gateway.js';
import { WardenError } from '../core/errors.js';
import type { Warden } from '../warden.js';
import { listenHttp, type HttpListener } from './http-listener.js';
import { errorText } from './jsonrpc.js';
import { PIN_CHANNEL } from './pins.js';
import { GatewayConnection, type RouterSettings } from './router.js';
import { resolveValues, SecretStripper } from './secrets.js';
import { SessionMap } from './session-map.js';
import { httpUpstream, stdioClientSide, stdioUpstream } from './transports.js';
import type { UpstreamSpec } from './upstream.js';

/** How to create a gateway. */
export interface GatewayOptions {
  warden: Warden;
  /** Agent every session acts as. */
  agent: string;
  /** Upstream servers (from `gateway.servers`, or one built from the command line). */
  servers: readonly GatewayServerConfig[];
  /** The `gateway:` section; defaults apply when absent. */
  section?: GatewaySection;
  /** Directory relative `cwd`s resolve against (the config file's). */
  baseDir?: string;
  /** Environment credentials are read from (default: the gateway's own). */
  env?: NodeJS.ProcessEnv;
  /** Diagnostics; default: stderr (stdout is the protocol's on a stdio gateway). */
  log?: (line: string) => void;
  /** Version reported when several servers are merged. */
  version?: string;
}

/** Requests one client may have in flight. */
const MAX_IN_FLIGHT = 1_000;

/** The agent a gateway acts for: `--agent`, else `gateway.agent`, else the only configured agent. */
export function resolveAgent(warden: Warden, cliAgent: string | undefined): string {
  const config = warden.policy.config;
  const agent =
    cliAgent ?? config.gateway?.agent ?? (config.agents.length === 1 ? config.agents[0]?.id : undefined);
  if (agent === undefined) {
    throw new WardenError('CONFIG_INVALID', 'the gateway needs to know which agent it acts for', {
      hint: 'pass --agent <id> or set gateway.agent in warden.yaml',
    });
  }
  if (!warden.policy.agent(agent)) {
    throw new WardenError('CONFIG_INVALID', `agent ${JSON.stringify(agent)} is not declared in warden.yaml`, {
      hint: 'add it under agents: with an owner and a phase, or pass another --agent',
    });
  }
  return agent;
}

/** A running gateway. */
export class Gateway {
  readonly warden: Warden;
  readonly agent: string;
  readonly section: GatewaySection;
  private readonly specs: UpstreamSpec[];
  private readonly secrets: SecretStripper;
  private readonly log: (line: string) => void;
  private readonly sessions = new SessionMap();
  private readonly version: string;
  private unsubscribe: (() => Promise<void>) | undefined;
  private listener: HttpListener | undefined;

  private constructor(
    opts: GatewayOptions,
    specs: UpstreamSpec[],
    secrets: SecretStripper,
    section: GatewaySection,
  ) {
    this.warden = opts.warden;
    this.agent = opts.agent;
    this.section = section;
    this.specs = specs;
    this.secrets = secrets;
    this.log = opts.log ?? ((line) => process.stderr.write(`warden gateway: ${line}\n`));
    this.version = opts.version ?? '0';
  }

  /**
   * Resolves every upstream's credentials (failing with a `WardenError` that names a missing one), adds
   * them to the ledger redactor, and prepares the upstream specs. Starts nothing yet: upstreams start when
   * a client initializes.
   */
  static async create(opts: GatewayOptions): Promise<Gateway> {
    if (opts.servers.length === 0) {
      throw new WardenError('CONFIG_INVALID', 'the gateway has no upstream server', {
        hint: 'run `warden gateway -- <command> [args]`, `warden gateway --upstream <url>`, or list servers under gateway.servers',
      });
    }
    const section = opts.section ?? opts.warden.policy.config.gateway ?? gatewayDefaults();
    const env = opts.env ?? process.env;
    const store = opts.warden.runtime.store;
    const literals = new Set<string>();
    // Filled once every credential is read; upstream stderr lines pass through it from the start.
    const secrets = new SecretStripper();
    const log = opts.log ?? ((line: string) => process.stderr.write(`warden gateway: ${line}\n`));
    const specs: UpstreamSpec[] = [];
    for (const s of opts.servers) {
      const timeoutMs = s.timeoutMs ?? section.requestTimeoutMs;
      const tier = s.tier;
      const base = {
        name: s.name,
        timeoutMs,
        startTimeoutMs: section.startTimeoutMs,
        restart: section.restart,
        ...(tier === undefined ? {} : { tier }),
      };
      if (s.command !== undefined) {
        const childEnv = await resolveValues(s.env, `gateway.servers.${s.name}.env`, env, store, literals);
        specs.push({
          ...base,
          kind: 'stdio',
          connect: stdioUpstream({
            command: s.command,
            args: s.args,
            env: childEnv,
            ...(s.cwd === undefined ? {} : { cwd: resolve(opts.baseDir ?? process.cwd(), s.cwd) }),
            maxMessageBytes: section.maxUpstreamMessageBytes,
            onStderr: (line) => {
              log(`[${s.name}] ${secrets.text(opts.warden.runtime.redactor.text(line))}`);
            },
          }),
        });
      } else if (s.url !== undefined) {
        const headers = await resolveValues(
          s.headers,
          `gateway.servers.${s.name}.headers`,
          env,
          store,
          literals,
        );
        specs.push({
          ...base,
          kind: 'http',
          connect: httpUpstream({ url: s.url, headers, maxMessageBytes: section.maxUpstreamMessageBytes }),
        });
      }
    }
    secrets.add(literals);
    opts.warden.runtime.redactor.addLiterals([...literals]);
    const gw = new Gateway(opts, specs, secrets, section);
    await gw.watchPins();
    return gw;
  }

  /** Live client connections. */
  get connections(): number {
    return this.sessions.size;
  }

  /** A new client connection (not yet attached to a transport). */
  connection(options: { sessionId?: string; user?: string } = {}): GatewayConnection {
    const settings: RouterSettings = {
      namespace: this.section.namespace,
      unknownTools: this.section.unknownTools,
      poisoned: this.section.poisoned,
      pinning: this.section.pinning,
      approvals: this.section.approvals,
      maxTools: this.section.maxTools,
      maxInFlight: MAX_IN_FLIGHT,
    };
    const conn = new GatewayConnection({
      warden: this.warden,
      agent: this.agent,
      upstreams: this.specs,
      settings,
      secrets: this.secrets,
      log: this.log,
      serverInfo: { name: 'warden-gateway', version: this.version },
      ...(options.sessionId === undefined ? {} : { sessionId: options.sessionId }),
      ...(options.user === undefined ? {} : { user: options.user }),
    });
    this.sessions.add(conn);
    return conn;
  }

  /**
   * Serves one client on stdio. Resolves once the client is attached; `closed` resolves when the client
   * goes away (stdin ends) or the connection closes.
   */
  async serveStdio(
    io: { stdin?: Readable; stdout?: Writable } = {},
  ): Promise<{ connection: GatewayConnection; closed: Promise<void> }> {
    const stdin = io.stdin ?? process.stdin;
    const stdout = io.stdout ?? process.stdout;
    const conn = this.connection();
    const closed = new Promise<void>((r) => {
      conn.onClose(r);
    });
    const end = () => {
      conn.drainAndClose().catch((e: unknown) => {
        this.log(`close failed: ${errorText(e)}`);
      });
    };
    stdin.once('end', end);
    stdin.once('close', end);
    await conn.connect(stdioClientSide({ stdin, stdout, maxMessageBytes: this.section.maxMessageBytes }));
    return { connection: conn, closed };
  }

  /** Serves clients over streamable HTTP, one connection per MCP session. */
  async listen(host: string, port: number): Promise<HttpListener> {
    const http = this.section.http;
    let token: string | undefined;
    if (http.token !== undefined) {
      const lit = new Set<string>();
      token = (
        await resolveValues(
          { token: http.token },
          'gateway.http',
          process.env,
          this.warden.runtime.store,
          lit,
        )
      ).token;
      this.warden.runtime.redactor.addLiterals([...lit]);
    } else if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
      this.log(
        `listening on ${host} without gateway.http.token: anyone who can reach it acts as agent ${this.agent}`,
      );
    }
    this.listener = await listenHttp({
      host,
      port,
      path: http.path,
      ...(token === undefined ? {} : { token }),
      ...(http.allowedHosts === undefined ? {} : { allowedHosts: http.allowedHosts }),
      ...(http.allowedOrigins === undefined ? {} : { allowedOrigins: http.allowedOrigins }),
      maxSessions: http.maxSessions,
      maxMessageBytes: this.section.maxMessageBytes,
      newConnection: () => this.connection(),
      log: this.log,
    });
    return this.listener;
  }

  /** Closes every connection and the listener. The Warden stays open (the caller owns it). */
  async close(): Promise<void> {
    await this.listener?.close();
    await Promise.allSettled(this.sessions.all().map((c) => c.close()));
    await this.unsubscribe?.().catch(() => undefined);
  }

  /** Pin approvals made elsewhere (the CLI, another replica) make live clients re-list their tools. */
  private async watchPins(): Promise<void> {
    try {
      this.unsubscribe = await this.warden.runtime.store.subscribe(PIN_CHANNEL, () => {
        for (const c of this.sessions.all()) c.toolsChangedElsewhere();
      });
    } catch (error) {
      this.log(`cannot watch pin approvals (${errorText(error)}); clients see them at their next tools/list`);
    }
  }
}
