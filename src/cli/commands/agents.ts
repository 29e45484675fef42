import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/load.js';
import { ALERT_COLLECTION, type Alert } from '../../observe/alerts/alert.js';
import { INVENTORY_COLLECTION, type InventoryRecord } from '../../observe/inventory/inventory.js';
import { KILL_COLLECTION, type KillSwitch } from '../../observe/kill-switch.js';
import { publicKeyFingerprint } from '../../observe/messages/keys.js';
import {
  HOLD_COLLECTION,
  QUARANTINE_COLLECTION,
  type HoldRecord,
  type QuarantineRecord,
} from '../../observe/quarantine/holds.js';
import { OBSERVE_SERVICE, type ObserveService } from '../../observe/service.js';
import type { Store } from '../../store/store.js';
import {
  CliExit,
  requireReason,
  loadConfigOrExit,
  openConfiguredStore,
  wardenFor,
  type ConfigOption,
} from '../context.js';
import { EXIT } from '../exit-codes.js';
import { defaultActor } from './kill.js';

/** One row of `warden agents list`: the inventory merged with config, kill switches, quarantine and alerts. */
export interface AgentView {
  id: string;
  configured: boolean;
  shadow: boolean;
  owner: string | null;
  phase: string | null;
  status: 'active' | 'killed' | 'quarantined' | 'held' | 'never seen';
  publicKeyFingerprint: string | null;
  firstSeen: string | null;
  lastSeen: string | null;
  events: number;
  refused: number;
  tools: Record<string, { calls: number; lastUsed: number }>;
  peers: Record<string, { sent: number; received: number; lastAt: number }>;
  openAlerts: Alert[];
  kill: KillSwitch | null;
  quarantine: QuarantineRecord | null;
  hold: HoldRecord | null;
}

function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

function fingerprintOf(key: string | undefined): string | null {
  if (key === undefined) return null;
  try {
    return publicKeyFingerprint(key);
  } catch {
    return 'invalid key';
  }
}

/** Builds the view of every agent, configured or seen. */
export async function agentViews(store: Store, loaded: LoadedConfig, now = Date.now()): Promise<AgentView[]> {
  const inventory = new Map(
    (await store.listDocs<InventoryRecord>(INVENTORY_COLLECTION)).map((d) => [d.id, d.body]),
  );
  const kills = (await store.listDocs<KillSwitch>(KILL_COLLECTION)).map((d) => d.body);
  const quarantined = new Map(
    (await store.listDocs<QuarantineRecord>(QUARANTINE_COLLECTION)).map((d) => [d.id, d.body]),
  );
  const holds = new Map((await store.listDocs<HoldRecord>(HOLD_COLLECTION)).map((d) => [d.id, d.body]));
  const alerts = (await store.listDocs<Alert>(ALERT_COLLECTION))
    .map((d) => d.body)
    .filter((a) => a.status === 'open');
  const config = new Map(loaded.config.agents.map((a) => [a.id, a]));
  const ids = [...new Set([...config.keys(), ...inventory.keys()])].sort();
  const global = kills.find((k) => k.scope === 'global');
  return ids.map((id) => {
    const cfg = config.get(id);
    const rec = inventory.get(id);
    const kill = global ?? kills.find((k) => k.scope === 'agent' && k.target === id) ?? null;
    const q = quarantined.get(id) ?? null;
    const h = holds.get(id);
    const hold = h && h.until > now ? h : null;
    const seen = rec?.lastSeen ?? null;
    return {
      id,
      configured: cfg !== undefined,
      shadow: cfg === undefined,
      owner: cfg?.owner ?? rec?.owner ?? null,
      phase: rec?.phase ?? cfg?.phase ?? null,
      status: kill ? 'killed' : q ? 'quarantined' : hold ? 'held' : seen === null ? 'never seen' : 'active',
      publicKeyFingerprint: cfg ? fingerprintOf(cfg.publicKey) : (rec?.identity.publicKeyFingerprint ?? null),
      firstSeen: iso(rec?.firstSeen),
      lastSeen: iso(seen),
      events: rec?.events ?? 0,
      refused: rec?.refused ?? 0,
      tools: rec?.tools ?? {},
      peers: rec?.peers ?? {},
      openAlerts: alerts.filter(
        (a) => a.agent === id || ((a.evidence as { agents?: string[] }).agents ?? []).includes(id),
      ),
      kill,
      quarantine: q,
      hold,
    };
  });
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

function show(v: AgentView): string {
  const lines = [
    `agent      ${v.id}${v.shadow ? '  (SHADOW: not in warden.yaml)' : ''}`,
    `owner      ${v.owner ?? '-'}`,
    `phase      ${v.phase ?? '-'}`,
    `status     ${v.status}`,
    `identity   ${v.publicKeyFingerprint ?? 'no public key'}`,
    `first seen ${v.firstSeen ?? '-'}`,
    `last seen  ${v.lastSeen ?? '-'}`,
    `events     ${v.events} (${v.refused} not allowed)`,
  ];
  if (v.kill)
    lines.push(
      `kill       ${v.kill.scope} by ${v.kill.by} at ${iso(v.kill.engagedAt) ?? '-'}: ${v.kill.reason}`,
    );
  if (v.quarantine)
    lines.push(
      `quarantine mode ${v.quarantine.mode} by ${v.quarantine.by} at ${iso(v.quarantine.since) ?? '-'}: ${v.quarantine.reason}`,
    );
  if (v.hold)
    lines.push(
      `hold       until ${iso(v.hold.until) ?? '-'}: ${v.hold.reasons.map((r) => r.reason).join('; ')}`,
    );
  const tools = Object.entries(v.tools).sort((a, b) => b[1].calls - a[1].calls);
  lines.push(
    `tools      ${tools.length === 0 ? '-' : tools.map(([t, u]) => `${t} (${u.calls})`).join(', ')}`,
  );
  const peers = Object.entries(v.peers);
  lines.push(
    `peers      ${peers.length === 0 ? '-' : peers.map(([p, u]) => `${p} (sent ${u.sent}, received ${u.received})`).join(', ')}`,
  );
  lines.push(`alerts     ${v.openAlerts.length} open`);
  for (const a of v.openAlerts) lines.push(`  ${a.id} ${a.severity.padEnd(8)} ${a.rule}: ${a.message}`);
  return lines.join('\n') + '\n';
}

async function withStore<T>(cmd: Command, f: (store: Store, loaded: LoadedConfig) => Promise<T>): Promise<T> {
  const loaded = loadConfigOrExit(cmd.optsWithGlobals<ConfigOption>());
  const store = await openConfiguredStore(loaded);
  try {
    return await f(store, loaded);
  } finally {
    await store.close();
  }
}

async function withObserve<T>(cmd: Command, f: (observe: ObserveService) => Promise<T>): Promise<T> {
  const warden = await wardenFor(cmd.optsWithGlobals<ConfigOption>());
  try {
    const observe = warden.runtime.service<ObserveService>(OBSERVE_SERVICE);
    if (!observe) throw new CliExit(EXIT.internal, 'the observe module is not loaded');
    return await f(observe);
  } finally {
    await warden.close();
  }
}

/** `warden agents list | show ID | quarantine ID | unquarantine ID | close-alert ID`. */
export function registerAgents(program: Command): void {
  const agents = program
    .command('agents')
    .description('the agent inventory: every agent configured or seen, shadow agents, alerts, quarantine');

  agents
    .command('list')
    .description('every agent configured or seen in traffic, with status, last seen and open alerts')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const views = await withStore(cmd, (store, loaded) => agentViews(store, loaded));
      if (opts.json) {
        process.stdout.write(JSON.stringify(views) + '\n');
        return;
      }
      const rows = [['AGENT', 'KIND', 'OWNER', 'PHASE', 'STATUS', 'LAST SEEN', 'EVENTS', 'ALERTS']];
      for (const v of views) {
        rows.push([
          v.id,
          v.shadow ? 'SHADOW' : 'configured',
          v.owner ?? '-',
          v.phase ?? '-',
          v.status,
          v.lastSeen ?? '-',
          String(v.events),
          String(v.openAlerts.length),
        ]);
      }
      process.stdout.write(table(rows));
    });

  agents
    .command('show')
    .description('one agent in detail: identity, tools used, peers, open alerts, kill switch, quarantine')
    .argument('<id>', 'agent id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const views = await withStore(cmd, (store, loaded) => agentViews(store, loaded));
      const v = views.find((x) => x.id === id);
      if (!v) throw new CliExit(EXIT.failed, `no agent ${JSON.stringify(id)} is configured or has been seen`);
      process.stdout.write(opts.json ? JSON.stringify(v) + '\n' : show(v));
    });

  agents
    .command('quarantine')
    .description(
      'quarantine an agent: its consequential actions need approval (or are denied) and its recent output is contained',
    )
    .argument('<id>', 'agent id')
    .option('--reason <text>', 'why (required)')
    .option('--by <name>', 'who (default: OS user@host)')
    .option('--deny', 'deny its consequential actions instead of asking for approval')
    .action(async (id: string, opts: { reason?: string; by?: string; deny?: boolean }, cmd: Command) => {
      const why = requireReason(opts, 'quarantine');
      const by = opts.by ?? defaultActor();
      await withObserve(cmd, async (o) => {
        await o.quarantine(id, { reason: why, by, ...(opts.deny ? { mode: 'deny' as const } : {}) });
        await o.flush();
      });
      process.stdout.write(`${id} quarantined by ${by}: ${why}\n`);
    });

  agents
    .command('unquarantine')
    .description('lift a quarantine (recorded with who and why)')
    .argument('<id>', 'agent id')
    .option('--reason <text>', 'why (required)')
    .option('--by <name>', 'who (default: OS user@host)')
    .action(async (id: string, opts: { reason?: string; by?: string }, cmd: Command) => {
      const why = requireReason(opts, 'unquarantine');
      const by = opts.by ?? defaultActor();
      const lifted = await withObserve(cmd, (o) => o.unquarantine(id, { reason: why, by }));
      if (!lifted) throw new CliExit(EXIT.failed, `${id} was not quarantined (the attempt is recorded)`);
      process.stdout.write(`${id} released from quarantine by ${by}: ${why}\n`);
    });

  agents
    .command('close-alert')
    .description('close an alert and lift the approval hold it placed')
    .argument('<alert>', 'alert id')
    .option('--reason <text>', 'why (required)')
    .option('--by <name>', 'who (default: OS user@host)')
    .action(async (alertId: string, opts: { reason?: string; by?: string }, cmd: Command) => {
      const why = requireReason(opts, 'close-alert');
      const by = opts.by ?? defaultActor();
      const closed = await withObserve(cmd, (o) => o.closeAlert(alertId, { reason: why, by }));
      if (!closed) throw new CliExit(EXIT.failed, `no alert ${alertId}`);
      process.stdout.write(`alert ${alertId} (${closed.rule}, ${closed.agent}) closed by ${by}: ${why}\n`);
    });
}
