/**
 * @module Connection history in a cluster: the rows live in the engine's stream SH_HISTORY
 * (subjects `sh.hist.<instanceId>`, kept HUB_HISTORY_DAYS by age), and each node reads them from
 * a working copy in memory that it loads when it joins. Every node derives the same rows from the
 * same changes and publishes them with a message id made of the row itself, so the engine keeps
 * one copy of each (within its two-minute duplicate window; the memory copy drops later repeats).
 *
 * Why every node publishes and not only the account's writer: a writer lease can move between a
 * change and its row, and then no node would own the row. The cost is one small publish per node
 * per state change, not per presence or profile change.
 *
 * Hazard: a row is published after the history edge's short queue (HUB_PERSIST_INTERVAL_MS); a
 * whole cluster stopped within that window keeps the change (the change stream has it) but not
 * its history row.
 */
import { DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream'
import type { Logger } from 'pino'
import type { HistoryRow, HistoryStore } from '../../ports/history.js'
import { MemoryHistoryStore } from '../memory/history-store.js'
import type { Engine } from './engine.js'

export const HISTORY_STREAM = 'SH_HISTORY'
const subjectOf = (instanceId: number) => `sh.hist.${instanceId}`

export class EngineHistoryStore implements HistoryStore {
  private readonly memory: MemoryHistoryStore
  /** The last stream sequence read into the working copy. */
  private readUpTo = 0

  constructor(
    private readonly engine: Pick<Engine, 'js' | 'jsm'>,
    instanceIds: () => readonly number[],
    private readonly retentionMs: number,
    private readonly log: Logger,
  ) {
    this.memory = new MemoryHistoryStore(instanceIds)
  }

  /** Makes (or keeps) the stream and loads every row it holds. */
  async load(): Promise<number> {
    const config = {
      name: HISTORY_STREAM,
      subjects: ['sh.hist.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: this.retentionMs * 1_000_000,
      num_replicas: 1,
    }
    try {
      await this.engine.jsm.streams.add(config)
    } catch {
      await this.engine.jsm.streams.update(HISTORY_STREAM, { max_age: config.max_age })
    }
    return this.readAfter(0)
  }

  /**
   * Reads what the stream gained since the last read: rows other nodes published from their short
   * queues after this node loaded (changes older than its preload, which it never derives itself).
   */
  catchUp(): Promise<number> {
    return this.readAfter(this.readUpTo)
  }

  private async readAfter(seq: number): Promise<number> {
    const info = await this.engine.jsm.streams.info(HISTORY_STREAM)
    const last = info.state.last_seq
    if (info.state.messages === 0 || last <= seq) return 0
    const c = await this.engine.js.consumers.get(HISTORY_STREAM, seq === 0 ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: seq + 1 })
    const it = await c.consume()
    let loaded = 0
    const rows: HistoryRow[] = []
    try {
      for await (const m of it) {
        try {
          rows.push(m.json<HistoryRow>())
        } catch (err) {
          this.log.error({ err, streamSeq: m.seq }, 'unreadable history row: skipped')
        }
        loaded++
        if (m.seq >= last || m.info.pending === 0) break
      }
    } finally {
      await it.close()
    }
    this.readUpTo = Math.max(this.readUpTo, last)
    this.memory.append(rows)
    return loaded
  }

  append(rows: readonly HistoryRow[]): void {
    this.memory.append(rows)
    for (const r of rows) {
      const msgID = `${r.instanceId}:${r.at}:${r.state}:${r.reason?.name ?? ''}`
      this.engine.js.publish(subjectOf(r.instanceId), JSON.stringify(r), { msgID }).catch((err) => this.log.warn({ err, instance: r.instanceId }, 'history row not kept in the engine'))
    }
  }

  recent(instanceId: number, opts: { sinceMs?: number; limit: number }): HistoryRow[] {
    return this.memory.recent(instanceId, opts)
  }

  since(instanceId: number, fromMs: number): HistoryRow[] {
    return this.memory.since(instanceId, fromMs)
  }

  instancesWithoutRows(): number[] {
    return this.memory.instancesWithoutRows()
  }

  /** The engine drops rows by age itself; this trims the working copy. */
  prune(minAt: number): number {
    return this.memory.prune(minAt)
  }
}
