/**
 * @module Connection-state transitions, counted from the change bus: a `diff` whose changes name
 * `connection.state` is one transition into the item's new state, for the reason the item carries
 * (the close name) or `none`. In a cluster every node follows every account, so each node counts
 * every transition of the cluster.
 */
import { CONNECTION_STATES, type ConnectionState } from '../../core/status.js'
import type { BusSubscriber, ChangeRecord } from '../../ports/bus.js'
import { BoundedLabels } from './series.js'

/** Close names are a fixed set; a source that makes up more would still not grow the series past this. */
const MAX_REASONS = 64

type ByReason = Map<string, number>
type ByState = Record<ConnectionState, ByReason>

const byState = (): ByState => ({ connected: new Map(), connecting: new Map(), disconnected: new Map(), loggedout: new Map() })

export interface Transition {
  state: ConnectionState
  reason: string
  count: number
}

export class Transitions implements BusSubscriber {
  private readonly all = byState()
  private readonly reasons = new BoundedLabels(MAX_REASONS)
  /** Per account (HUB_METRICS_PER_ACCOUNT only), by account id. */
  private readonly accounts: Map<number, ByState> | null

  constructor(perAccount: boolean) {
    this.accounts = perAccount ? new Map() : null
  }

  onChange(r: ChangeRecord): void {
    if (r.kind !== 'diff' || r.changes === null || r.changes['connection.state'] === undefined) return
    const state = r.connection.state
    const reason = this.reasons.of(r.connection.reason?.name ?? 'none')
    bump(this.all[state], reason)
    if (this.accounts === null) return
    let mine = this.accounts.get(r.accountId)
    if (mine === undefined) this.accounts.set(r.accountId, (mine = byState()))
    bump(mine[state], reason)
  }

  onRevoke(): void {}

  /** Every transition counted so far. */
  totals(): Transition[] {
    return flatten(this.all)
  }

  /** Per account id (empty unless per-account counting is on). */
  perAccount(): Map<number, Transition[]> {
    const out = new Map<number, Transition[]>()
    for (const [id, s] of this.accounts ?? []) out.set(id, flatten(s))
    return out
  }

  /** An account deleted: its series go. */
  forget(accountId: number): void {
    this.accounts?.delete(accountId)
  }
}

function bump(m: ByReason, reason: string): void {
  m.set(reason, (m.get(reason) ?? 0) + 1)
}

function flatten(s: ByState): Transition[] {
  const out: Transition[] = []
  for (const state of CONNECTION_STATES) for (const [reason, count] of s[state]) out.push({ state, reason, count })
  return out
}
