/**
 * Tool-definition pins in the store (collection `tool_pins`, id `server/tool`). A pin holds the digest of the
 * definition someone (or first use) approved; a different digest seen later is kept beside it as `pending`
 * until a person approves it with `warden gateway pins approve SERVER/TOOL`. Writes are compare-and-set, so
 * two gateway replicas seeing the same tool at once cannot overwrite each other's review.
 */
import type { Store, StoredDoc } from '../store/store.js';
import type { ToolDefinition } from '../supply-chain/tool-definitions/index.js';

/** Store collection of pins. */
export const PIN_COLLECTION = 'tool_pins';
/** Pub/sub channel on which pin approvals are announced, so live sessions re-list. */
export const PIN_CHANNEL = 'warden_tool_pins';

/** The members of a definition that are pinned (what the model and the user read): those the scanner reads. */
export type PinnedDefinition = ToolDefinition;

/** A definition as seen, with its digest. */
export interface SeenDefinition {
  digest: string;
  definition: PinnedDefinition;
  /** When it was first seen in this form, ms. */
  seenAt: number;
  /** Why it waits for review. */
  why: 'changed' | 'flagged' | 'new';
  /** Scan findings that flagged it (messages only). */
  findings?: string[];
}

/** An approved definition. */
export interface ApprovedDefinition {
  digest: string;
  definition: PinnedDefinition;
  at: number;
  by: string;
  /** `first-use`: pinned automatically at first sight; `review`: a person approved this exact digest. */
  how: 'first-use' | 'review';
}

/** Body of a pin document. */
export interface ToolPin {
  server: string;
  tool: string;
  approved?: ApprovedDefinition;
  pending?: SeenDefinition;
  /** Digests already reported (ledger, alerts), so a rug pull is reported once, not on every tools/list. */
  reported?: string[];
}

/** Id of a pin document. */
export function pinId(server: string, tool: string): string {
  return `${server}/${tool}`;
}

/** The pinned members of a definition, nothing else (no `_meta`, no icons). */
export function pinnedDefinition(def: ToolDefinition): PinnedDefinition {
  const out: PinnedDefinition = { name: def.name };
  if (def.title !== undefined) out.title = def.title;
  if (def.description !== undefined) out.description = def.description;
  if (def.inputSchema !== undefined) out.inputSchema = def.inputSchema;
  if (def.outputSchema !== undefined) out.outputSchema = def.outputSchema;
  if (def.annotations !== undefined) out.annotations = def.annotations;
  return out;
}

/** All pins of one server, by tool name. */
export async function loadPins(store: Store, server: string): Promise<Map<string, StoredDoc<ToolPin>>> {
  const docs = await store.listDocs<ToolPin>(PIN_COLLECTION, `${server}/`);
  const out = new Map<string, StoredDoc<ToolPin>>();
  for (const d of docs) {
    if (d.body && typeof d.body.tool === 'string' && d.body.server === server) out.set(d.body.tool, d);
  }
  return out;
}

/**
 * Updates a pin with compare-and-set, retrying a few times on a concurrent write. `change` returns the new
 * body, or undefined to leave the document as it is. Resolves the body as stored (or as found).
 */
export async function updatePin(
  store: Store,
  server: string,
  tool: string,
  change: (current: ToolPin | undefined) => ToolPin | undefined,
): Promise<ToolPin | undefined> {
  const id = pinId(server, tool);
  for (let attempt = 0; attempt < 5; attempt++) {
    const doc = await store.getDoc<ToolPin>(PIN_COLLECTION, id);
    const next = change(doc?.body);
    if (next === undefined) return doc?.body;
    if (await store.putDoc(PIN_COLLECTION, id, next, doc?.version ?? 0)) return next;
  }
  throw new Error(`pin ${id} is being changed concurrently; try again`);
}

/** Result of approving a pending definition. */
export type ApproveOutcome =
  | { ok: true; pin: ToolPin; digest: string }
  | { ok: false; problem: 'not-found' | 'nothing-pending' | 'digest-mismatch'; message: string };

/**
 * Approves what is pending for `server/tool` (a changed, flagged or new definition). With `digest`, only
 * that exact definition is approved, so a reviewer never approves something other than what was shown.
 */
export async function approvePin(
  store: Store,
  server: string,
  tool: string,
  by: string,
  options: { digest?: string; now?: number } = {},
): Promise<ApproveOutcome> {
  const now = options.now ?? Date.now();
  let outcome: ApproveOutcome = {
    ok: false,
    problem: 'not-found',
    message: `no pin for ${pinId(server, tool)}`,
  };
  await updatePin(store, server, tool, (current) => {
    if (!current) {
      outcome = {
        ok: false,
        problem: 'not-found',
        message: `no tool ${pinId(server, tool)} has been seen by a gateway using this store`,
      };
      return undefined;
    }
    const candidate =
      current.pending ?? (current.approved?.how === 'first-use' ? current.approved : undefined);
    if (!candidate) {
      outcome = {
        ok: false,
        problem: 'nothing-pending',
        message: `${pinId(server, tool)} has nothing waiting for review`,
      };
      return undefined;
    }
    const digest = candidate.digest;
    if (options.digest !== undefined && !digest.startsWith(options.digest)) {
      outcome = {
        ok: false,
        problem: 'digest-mismatch',
        message: `${pinId(server, tool)} is waiting with digest ${digest.slice(0, 12)}, not ${options.digest}`,
      };
      return undefined;
    }
    const next: ToolPin = {
      server,
      tool,
      approved: { digest, definition: candidate.definition, at: now, by, how: 'review' },
      ...(current.reported ? { reported: current.reported } : {}),
    };
    outcome = { ok: true, pin: next, digest };
    return next;
  });
  // Assigned inside the compare-and-set callback, which the compiler cannot follow.
  const final = outcome as ApproveOutcome;
  if (final.ok)
    await store.publish(PIN_CHANNEL, { server, tool, digest: final.digest }).catch(() => undefined);
  return final;
}

/** Forgets a pin entirely (the next sighting is a first sighting again). */
export async function forgetPin(store: Store, server: string, tool: string): Promise<boolean> {
  const removed = await store.deleteDoc(PIN_COLLECTION, pinId(server, tool));
  if (removed) await store.publish(PIN_CHANNEL, { server, tool, forgotten: true }).catch(() => undefined);
  return removed;
}
