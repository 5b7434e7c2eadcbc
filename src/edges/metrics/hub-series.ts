/**
 * @module The hub's series: instances by state (counted at scrape time from the snapshot),
 * transitions (from the bus), the write-behind's batches and backlog; and, with
 * HUB_METRICS_PER_ACCOUNT, the same per account, labelled with the account's name.
 */
import { Histogram, type Registry } from 'prom-client'
import { CONNECTION_STATES, type ConnectionState } from '../../core/status.js'
import type { AccountView } from '../../hub/model.js'
import { counterOf, gaugeOf, one, type Sample } from './series.js'
import type { Transitions } from './transitions.js'

/** What the series read of the hub. */
export interface MetricsHub {
  accounts(): AccountView[]
  account(id: number): AccountView | undefined
  stateOf(id: number): ConnectionState | undefined
  readonly persistPending: number
  observePersist(fn: (seconds: number) => void): void
}

/** Batches are usually well under a millisecond (memory) to tens of milliseconds (SQLite under load). */
const BATCH_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

type StateCounts = Record<ConnectionState, number>

function countStates(hub: MetricsHub, ids: readonly number[], into: StateCounts): StateCounts {
  for (const id of ids) {
    const s = hub.stateOf(id)
    if (s !== undefined) into[s]++
  }
  return into
}

const zero = (): StateCounts => ({ connected: 0, connecting: 0, disconnected: 0, loggedout: 0 })

export function hubSeries(registry: Registry, hub: MetricsHub, transitions: Transitions, perAccount: boolean): void {
  gaugeOf(registry, {
    name: 'statushub_instances',
    help: 'Instances by connection state (in a cluster, every node reports the whole cluster).',
    labelNames: ['state'],
    read: () => {
      const counts = zero()
      for (const a of hub.accounts()) countStates(hub, a.ids, counts)
      return CONNECTION_STATES.map((state) => ({ labels: { state }, value: counts[state] }))
    },
  })
  counterOf(registry, {
    name: 'statushub_transitions_total',
    help: 'Connection-state transitions, by the state entered and the close reason (`none` without one).',
    labelNames: ['state', 'reason'],
    read: () => transitions.totals().map(({ state, reason, count }) => ({ labels: { state, reason }, value: count })),
  })
  const batches = new Histogram({
    name: 'statushub_persist_batch_seconds',
    help: 'Duration of each write-behind transaction (statuses, change log, webhook outbox).',
    buckets: BATCH_BUCKETS,
    registers: [registry],
  })
  hub.observePersist((s) => batches.observe(s))
  gaugeOf(registry, {
    name: 'statushub_persist_pending',
    help: 'Rows waiting for the next write-behind transaction.',
    labelNames: [],
    read: () => one(hub.persistPending),
  })
  if (!perAccount) return

  gaugeOf(registry, {
    name: 'statushub_account_instances',
    help: 'Instances of each account by connection state (HUB_METRICS_PER_ACCOUNT).',
    labelNames: ['account', 'state'],
    read: () => {
      const out: Sample<'account' | 'state'>[] = []
      for (const a of hub.accounts()) {
        const counts = countStates(hub, a.ids, zero())
        for (const state of CONNECTION_STATES) out.push({ labels: { account: a.name, state }, value: counts[state] })
      }
      return out
    },
  })
  counterOf(registry, {
    name: 'statushub_account_transitions_total',
    help: 'Connection-state transitions of each account, by state entered and close reason (HUB_METRICS_PER_ACCOUNT).',
    labelNames: ['account', 'state', 'reason'],
    read: () => {
      const out: Sample<'account' | 'state' | 'reason'>[] = []
      for (const [id, list] of transitions.perAccount()) {
        const account = hub.account(id)
        if (account === undefined) {
          transitions.forget(id)
          continue
        }
        for (const { state, reason, count } of list) out.push({ labels: { account: account.name, state, reason }, value: count })
      }
      return out
    },
  })
}
