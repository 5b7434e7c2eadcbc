/**
 * @module The history edge: records one row per change of an instance's connection.state or
 * connection.reason (HistoryStore, kept for at least HUB_HISTORY_DAYS), and serves it with the
 * day's uptime and the socket's liveness at GET /api/instance/history/:instance. Liveness is
 * bookkeeping, never a change: it is asked of the WhatsApp source when someone reads it.
 */
import type { Logger } from 'pino'
import type { Hub } from '../../hub/hub.js'
import type { BusSubscriber, ChangeBus, ChangeRecord } from '../../ports/bus.js'
import type { Clock } from '../../ports/clock.js'
import type { Edge } from '../../ports/edge.js'
import type { HistoryRow, HistoryStore } from '../../ports/history.js'
import type { WhatsAppControl } from '../../ports/whatsapp.js'
import type { Router } from '../http/route.js'
import { historyRoutes } from '../http/routes/history.js'

export interface HistoryConfig {
  /** Rows younger than this are always kept (at least 7). */
  historyDays: number
  /** Longest wait between a change and its history row's transaction. */
  persistIntervalMs: number
}

export interface HistoryDeps {
  hub: Hub
  bus: ChangeBus
  store: HistoryStore
  wa: WhatsAppControl | null
  router: Router
  clock: Clock
  log: Logger
  cfg: HistoryConfig
  /**
   * Whether stopping records every connected instance as down (`hubStopped`): true for the one
   * embedded process; false for a cluster node, whose sockets fail over to other nodes.
   */
  recordsStops?: boolean
}

/** The reason a row carries for the time the hub itself was down. */
const HUB_STOPPED = { code: null, name: 'hubStopped', message: 'The hub stopped' }

/** The row a change produces, or null when neither connection.state nor connection.reason changed. */
export function historyRowOf(r: ChangeRecord): HistoryRow | null {
  if (r.kind === 'removed') return null
  if (r.kind === 'diff' && (r.changes === null || !('connection.state' in r.changes || 'connection.reason' in r.changes))) return null
  const c = r.connection
  return { instanceId: r.instanceId, seq: r.seq, at: r.at, state: c.state, reason: c.reason, displayStatus: c.displayStatus }
}

export interface HistoryEdge extends Edge {
  /** Writes the queued rows now (reads do it first). */
  flush(): void
}

export function historyEdge(d: HistoryDeps): HistoryEdge {
  let queue: HistoryRow[] = []
  let timer: NodeJS.Timeout | null = null
  let pruner: NodeJS.Timeout | null = null
  const retentionMs = d.cfg.historyDays * 86_400_000

  const flush = () => {
    if (timer !== null) clearTimeout(timer)
    timer = null
    if (queue.length === 0) return
    const rows = queue
    queue = []
    try {
      d.store.append(rows)
    } catch (err) {
      d.log.error({ err, rows: rows.length }, 'writing connection history failed')
    }
  }

  const subscriber: BusSubscriber = {
    onChange(r) {
      if (r.kind === 'removed') {
        queue = queue.filter((row) => row.instanceId !== r.instanceId)
        return
      }
      const row = historyRowOf(r)
      if (row === null) return
      queue.push(row)
      timer ??= setTimeout(flush, d.cfg.persistIntervalMs)
    },
    onRevoke() {},
  }

  // Instances that have no row yet (created before the table existed) start from their snapshot.
  const seed: HistoryRow[] = []
  for (const id of d.store.instancesWithoutRows()) {
    const inst = d.hub.instance(id)
    const account = inst === undefined ? undefined : d.hub.account(inst.accountId)
    if (inst === undefined || account === undefined) continue
    const s = inst.status
    seed.push({ instanceId: id, seq: account.seq, at: Date.parse(s.since), state: s.state, reason: s.reason, displayStatus: s.displayStatus })
  }
  d.store.append(seed)
  // Subscribed before the WhatsApp source restores its sessions, so their first changes are recorded.
  const unsubscribe = d.bus.subscribe(subscriber)

  const prune = () => {
    try {
      flush()
      d.store.prune(d.clock.now() - retentionMs)
    } catch (err) {
      d.log.error({ err }, 'pruning connection history failed')
    }
  }

  historyRoutes(d.router, { hub: d.hub, store: d.store, wa: d.wa, clock: d.clock, flush })

  return {
    name: 'history',
    flush,
    start() {
      prune()
      pruner = setInterval(prune, 3_600_000)
      pruner.unref()
    },
    stop() {
      if (pruner !== null) clearInterval(pruner)
      unsubscribe()
      if (d.recordsStops === false) return flush()
      // The WhatsApp source has shut down by now: while the hub is down nothing is connected.
      const now = d.clock.now()
      for (const account of d.hub.accounts()) {
        for (const inst of d.hub.instancesOf(account.id)) {
          if (inst.status.state !== 'connected' && inst.status.state !== 'connecting') continue
          queue.push({ instanceId: inst.id, seq: account.seq, at: now, state: 'disconnected', reason: HUB_STOPPED, displayStatus: 'Disconnected (hub stopped)' })
        }
      }
      flush()
    },
  }
}
