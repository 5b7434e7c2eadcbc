/**
 * @module A seat: a role that one node of a cluster holds at a time (the cluster's webhook
 * deliverer). A node that can no longer prove it holds the seat is told so before another node can
 * take it (self-fencing, like the leases behind it), so two holders never act at once past the
 * fence margin.
 */
export interface SeatHolder {
  /** This node holds the seat now: get ready to act. */
  gained(): Promise<void>
  /** This node no longer holds the seat: stop acting at once. */
  lost(): void
}

export interface Seat {
  /** Starts taking the seat whenever no node holds it; resolves after the first attempt (and its `gained`). */
  start(holder: SeatHolder): Promise<void>
  /** Whether this node holds the seat now. */
  holds(): boolean
  /** Gives the seat up so another node can take it at once (a clean stop); stops trying to take it. */
  release(): Promise<void>
}
