/**
 * Client connections by MCP session id. Each client connection is one Warden session (agent from
 * `--agent` or `gateway.agent`, session id from the MCP session id, or a fresh UUID on stdio) and owns its
 * own upstream connections, so one client's state (roots, subscriptions, a server's per-session memory)
 * never leaks into another's.
 */
import type { GatewayConnection } from './router.js';

/** Live connections, for shutdown and for telling every client about pin approvals. */
export class SessionMap {
  private readonly live = new Set<GatewayConnection>();

  /** Number of live connections. */
  get size(): number {
    return this.live.size;
  }

  /** Tracks a connection until it closes. */
  add(conn: GatewayConnection): void {
    this.live.add(conn);
    conn.onClose(() => {
      this.live.delete(conn);
    });
  }

  /** The connection whose Warden session has this id (the MCP session id over HTTP). */
  get(sessionId: string): GatewayConnection | undefined {
    for (const c of this.live) if (c.wardenSession?.id === sessionId) return c;
    return undefined;
  }

  /** Every live connection. */
  all(): GatewayConnection[] {
    return [...this.live];
  }
}
