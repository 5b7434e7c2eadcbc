/**
 * @module The simulated WhatsApp's own view of which socket of each number is live, as WhatsApp's
 * servers have one: when a second socket of a number logs in, WhatsApp closes the older with 440
 * (Baileys: `Stream Errored (conflict)`). One process keeps it in memory; a cluster shares it
 * through the engine (adapters/nats/sim-world.ts), so a double socket across nodes is seen too.
 *
 * Contract ("Simulated mode in a cluster" in the cluster contract, ../shared/spec/cluster.md): a
 * socket is live while its node heartbeats it every BEAT_MS; one not heartbeated for DEAD_MS is
 * dead. `conflicts` counts the times two live sockets of one number overlapped for longer than the
 * margin, max(2 s, TTL / 5).
 */
export const BEAT_MS = 1000
export const DEAD_MS = 3000

export function conflictMarginMs(leaseTtlMs: number): number {
  return Math.max(2000, Math.floor(leaseTtlMs / 5))
}

export interface LiveSocketEvents {
  /** A later socket of the number logged in: WhatsApp closes this one with 440. */
  replaced(): void
  /** This socket went unheartbeated past DEAD_MS (its node stalled or lost the world): it is gone. */
  dead(): void
}

export interface SimWorld {
  /** Socket `sock` (unique per socket) of instance `id` logged in. */
  open(id: number, sock: string, on: LiveSocketEvents): void
  /** The socket ended by itself (a close, a logout, the hub ending it). */
  close(id: number, sock: string): void
  /** The cluster-wide count of overlaps past the margin. */
  conflicts(): Promise<number>
  stop(): void
}

/** One process: a later login replaces the older at once, so no overlap ever lasts. */
export class LocalSimWorld implements SimWorld {
  private readonly live = new Map<number, { sock: string; on: LiveSocketEvents }>()

  open(id: number, sock: string, on: LiveSocketEvents): void {
    const older = this.live.get(id)
    this.live.set(id, { sock, on })
    if (older !== undefined && older.sock !== sock) older.on.replaced()
  }

  close(id: number, sock: string): void {
    if (this.live.get(id)?.sock === sock) this.live.delete(id)
  }

  async conflicts(): Promise<number> {
    return 0
  }

  stop(): void {
    this.live.clear()
  }
}
