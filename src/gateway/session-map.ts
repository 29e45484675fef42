/**
 * Client connections by MCP session id. Each client connection is one Warden session (agent from
 * `--agent` or `gateway.agent`, session id from the MCP session id, or a fresh UUID on stdio) and owns its
 * own upstream connections, so one client's state (roots, subscriptions, a server's per-session memory)
 * never leaks into another's.
 */
import type { GatewayConnection } from './router.js';

/** Live connections, for the HTTP listener and for shutdown. */
export class SessionMap {
  private readonly byId = new Map<string, GatewayConnection>();
  private readonly anonymous = new Set<GatewayConnection>();

  /** Number of live connections. */
  get size(): number {
    return this.byId.size + this.anonymous.size;
  }

  /** Tracks a connection that has no session id yet (HTTP before initialize, or stdio). */
  add(conn: GatewayConnection): void {
    this.anonymous.add(conn);
    conn.onClose(() => { this.remove(conn); });
  }

  /** Gives a tracked connection its session id. */
  name(id: string, conn: GatewayConnection): void {
    this.anonymous.delete(conn);
    this.byId.set(id, conn);
  }

  /** The connection of a session. */
  get(id: string): GatewayConnection | undefined {
    return this.byId.get(id);
  }

  /** Forgets a connection (it closed). */
  remove(conn: GatewayConnection): void {
    this.anonymous.delete(conn);
    for (const [id, c] of this.byId) if (c === conn) this.byId.delete(id);
  }

  /** Every live connection. */
  all(): GatewayConnection[] {
    return [...this.byId.values(), ...this.anonymous];
  }
}
