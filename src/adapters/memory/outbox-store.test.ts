import { describe, expect, it } from 'vitest'
import { openDb } from '../sqlite/db.js'
import { SqliteOutbox } from '../sqlite/outbox-store.js'
import { SqliteStore } from '../sqlite/store.js'
import { defaultConfig } from '../../core/integrations.js'
import { initialStatus } from '../../core/status.js'
import type { Delivery, DeliveryStatus, OutboxRow, OutboxStore } from '../../ports/outbox.js'
import { MemoryOutbox } from './outbox-store.js'

const T0 = Date.UTC(2026, 0, 1)

/** An outbox with two instances, and a way to add rows to it as its owner does. */
function outboxOf(kind: 'sqlite' | 'memory') {
  let add: (rows: OutboxRow[]) => void
  let outbox: OutboxStore
  let ids: [number, number]
  if (kind === 'sqlite') {
    const opened = openDb(':memory:')
    const store = new SqliteStore(opened)
    const accountId = store.createAccount({ name: 'a', instanceLimit: 10, tokenHash: 'h', createdAt: '' })
    const make = (n: string) => store.createInstance({ accountId, name: n, apiInstanceName: n, tokenHash: `t${n}`, config: defaultConfig(), createdAt: '' }, initialStatus(''), '')
    ids = [make('i'), make('j')]
    outbox = new SqliteOutbox(opened)
    add = (rows) => store.writeBatch({ statuses: [], changes: [], seqs: [], outbox: rows })
  } else {
    const memory = new MemoryOutbox()
    ids = [1, 2]
    outbox = memory
    add = (rows) => memory.insert(rows, rows[0]!.seq)
  }
  const row = (instanceId: number, label: string, seq: number): OutboxRow => ({
    id: `msg_e_1_${seq}_${label}`,
    instanceId,
    label,
    event: 'instance.state',
    epoch: 'e',
    seq,
    version: seq,
    body: `{"seq":${seq}}`,
    createdAt: T0 + seq,
  })
  return { outbox, ids, add: (instanceId: number, label: string, ...seqs: number[]) => add(seqs.map((s) => row(instanceId, label, s))) }
}

const view = (ds: Delivery[]) => ds.map((d) => [d.seq, d.label, d.status, d.attempts, d.lastError])

describe.each(['sqlite', 'memory'] as const)('the %s outbox (OutboxStore port)', (kind) => {
  it('hands out each webhook’s pending deliveries oldest first, and counts them per webhook', () => {
    const { outbox, ids, add } = outboxOf(kind)
    const [i, j] = ids
    add(i, 'a', 1, 2, 3)
    add(i, 'b', 4)
    add(j, 'a', 5)
    expect(outbox.nextPending(i, 'a', 2).map((d) => d.seq)).toEqual([1, 2])
    expect(outbox.nextPending(i, 'b', 10).map((d) => [d.seq, d.status, d.attempts, d.body, d.queuedAt, d.nextAttemptAt, d.lastAttemptAt])).toEqual([[4, 'pending', 0, '{"seq":4}', T0 + 4, T0 + 4, null]])
    expect(outbox.pendingCounts().sort((x, y) => x.instanceId - y.instanceId || x.label.localeCompare(y.label))).toEqual([
      { instanceId: i, label: 'a', pending: 3 },
      { instanceId: i, label: 'b', pending: 1 },
      { instanceId: j, label: 'a', pending: 1 },
    ])
  })

  it('records attempts: a retry keeps it pending, delivered drops the body, dead counts the attempt only when one was made', () => {
    const { outbox, ids, add } = outboxOf(kind)
    const [i] = ids
    add(i, 'a', 1, 2, 3)
    const [d1, d2, d3] = outbox.nextPending(i, 'a', 3) as [Delivery, Delivery, Delivery]
    outbox.retry(d1.pos, T0 + 100, 'HTTP 503', T0 + 900)
    expect(outbox.nextPending(i, 'a', 1).map((d) => [d.attempts, d.lastAttemptAt, d.lastError, d.nextAttemptAt])).toEqual([[1, T0 + 100, 'HTTP 503', T0 + 900]])
    outbox.delivered(d1.pos, T0 + 1000)
    outbox.dead(d2.pos, T0 + 1100, 'HTTP 500', true)
    outbox.dead(d3.pos, T0 + 1200, 'dropped', false)
    // Settled ones take no more writes meant for pending ones.
    outbox.retry(d2.pos, T0 + 1300, 'late', T0 + 2000)
    outbox.dead(d1.pos, T0 + 1300, 'late', true)
    const list = outbox.list(i, { limit: 10 })
    expect(list.map((d) => [d.seq, d.status, d.attempts, d.lastAttemptAt, d.lastError, d.body])).toEqual([
      [3, 'dead', 0, null, 'dropped', '{"seq":3}'],
      [2, 'dead', 1, T0 + 1100, 'HTTP 500', '{"seq":2}'],
      [1, 'delivered', 2, T0 + 1000, null, null],
    ])
    expect(outbox.nextPending(i, 'a', 10)).toEqual([])
  })

  it('dead-letters all or the oldest pending of one webhook, never the one in flight', () => {
    const { outbox, ids, add } = outboxOf(kind)
    const [i] = ids
    add(i, 'a', 1, 2, 3, 4, 5)
    add(i, 'b', 6)
    const head = outbox.nextPending(i, 'a', 1)[0]!
    expect(outbox.deadOldestPending(i, 'a', 2, head.pos, 'too many')).toBe(2)
    expect(outbox.nextPending(i, 'a', 10).map((d) => d.seq)).toEqual([1, 4, 5])
    expect(outbox.deadAllPending(i, 'a', 'gone', head.pos)).toBe(2)
    expect(outbox.deadAllPending(i, 'a', 'gone', null)).toBe(1)
    expect(view(outbox.list(i, { limit: 10 }))).toEqual([
      [6, 'b', 'pending', 0, null],
      [5, 'a', 'dead', 0, 'gone'],
      [4, 'a', 'dead', 0, 'gone'],
      [3, 'a', 'dead', 0, 'too many'],
      [2, 'a', 'dead', 0, 'too many'],
      [1, 'a', 'dead', 0, 'gone'],
    ])
  })

  it('re-queues the dead of the labels asked for, attempts reset and age restarting, ahead of newer pending ones', () => {
    const { outbox, ids, add } = outboxOf(kind)
    const [i] = ids
    add(i, 'a', 1, 2)
    add(i, 'b', 3)
    for (const d of [...outbox.nextPending(i, 'a', 10), ...outbox.nextPending(i, 'b', 10)]) outbox.dead(d.pos, T0 + 50, 'HTTP 500', true)
    add(i, 'a', 4)
    expect([...outbox.requeueDead(i, ['a', 'c'], T0 + 5000)]).toEqual([['a', 2]])
    expect(outbox.nextPending(i, 'a', 10).map((d) => [d.seq, d.attempts, d.queuedAt, d.nextAttemptAt, d.lastError])).toEqual([
      [1, 0, T0 + 5000, T0 + 5000, 'HTTP 500'],
      [2, 0, T0 + 5000, T0 + 5000, 'HTTP 500'],
      [4, 0, T0 + 4, T0 + 4, null],
    ])
    expect(view(outbox.list(i, { label: 'b', limit: 10 }))).toEqual([[3, 'b', 'dead', 1, 'HTTP 500']])
  })

  it('lists one instance’s deliveries newest first, by label, status and limit', () => {
    const { outbox, ids, add } = outboxOf(kind)
    const [i, j] = ids
    add(i, 'a', 1, 2, 3)
    add(i, 'b', 4)
    add(j, 'a', 5)
    outbox.delivered(outbox.nextPending(i, 'a', 1)[0]!.pos, T0 + 10)
    expect(outbox.list(i, { limit: 10 }).map((d) => d.seq)).toEqual([4, 3, 2, 1])
    expect(outbox.list(i, { limit: 2 }).map((d) => d.seq)).toEqual([4, 3])
    expect(outbox.list(i, { label: 'a', limit: 10 }).map((d) => d.seq)).toEqual([3, 2, 1])
    expect(outbox.list(i, { status: 'delivered' as DeliveryStatus, limit: 10 }).map((d) => d.seq)).toEqual([1])
    expect(outbox.list(i, { label: 'a', status: 'pending', limit: 1 }).map((d) => d.seq)).toEqual([3])
    expect(outbox.list(j, { limit: 10 }).map((d) => d.seq)).toEqual([5])
  })

  it('prunes settled deliveries past the kept counts per webhook and status, never a pending one', () => {
    const { outbox, ids, add } = outboxOf(kind)
    const [i] = ids
    add(i, 'a', 1, 2, 3, 4, 5, 6)
    add(i, 'b', 7, 8)
    const [p1, p2, p3, p4] = outbox.nextPending(i, 'a', 4) as Delivery[]
    for (const d of [p1!, p2!, p3!]) outbox.delivered(d.pos, T0)
    outbox.dead(p4!.pos, T0, 'x', false)
    outbox.dead(outbox.nextPending(i, 'a', 1)[0]!.pos, T0, 'x', false)
    outbox.delivered(outbox.nextPending(i, 'b', 1)[0]!.pos, T0)
    expect(outbox.prune(2, 1)).toBe(2)
    expect(view(outbox.list(i, { limit: 10 })).map(([seq, label, status]) => [seq, label, status])).toEqual([
      [8, 'b', 'pending'],
      [7, 'b', 'delivered'],
      [6, 'a', 'pending'],
      [5, 'a', 'dead'],
      [3, 'a', 'delivered'],
      [2, 'a', 'delivered'],
    ])
  })
})

describe('the memory outbox of a cluster’s deliverer', () => {
  const row = (seq: number, label = 'a'): OutboxRow => ({ id: `msg_e_1_${seq}_${label}`, instanceId: 1, label, event: 'instance.state', epoch: 'e', seq, version: seq, body: `{"seq":${seq}}`, createdAt: T0 + seq })

  it('says how far each webhook has settled: below its oldest inserted pending row, or its newest row when none is pending', () => {
    const o = new MemoryOutbox()
    expect(o.settledThrough(1, 'a')).toBe(null)
    o.insert([row(3)], 103)
    o.insert([row(5)], 105)
    o.insert([row(8)], 108)
    expect(o.settledThrough(1, 'a')).toBe(2)
    const [h, , last] = o.nextPending(1, 'a', 3)
    o.delivered(h!.pos, T0)
    expect(o.settledThrough(1, 'a')).toBe(4)
    // Past the pending bound the newer ones die while the head is in flight: the head still holds the cursor.
    o.dead(last!.pos, T0, 'dropped', false)
    expect(o.settledThrough(1, 'a')).toBe(4)
    o.delivered(o.nextPending(1, 'a', 1)[0]!.pos, T0)
    expect(o.settledThrough(1, 'a')).toBe(8)
  })

  it('gives, per instance, the lowest position with a row still pending, not counting restored letters or re-queued dead ones', () => {
    const o = new MemoryOutbox()
    o.restore([{ ...row(1), status: 'pending', attempts: 0, queuedAt: T0, nextAttemptAt: T0, lastAttemptAt: null, lastError: null }])
    expect([...o.lowestPendingOrigins()]).toEqual([])
    o.insert([row(2), row(2, 'b')], 50)
    o.insert([row(3)], 60)
    o.insert([{ ...row(4), instanceId: 2 }], 70)
    expect([...o.lowestPendingOrigins()]).toEqual([
      [1, 50],
      [2, 70],
    ])
    expect(o.nextPending(1, 'a', 10).map((d) => d.seq)).toEqual([1, 2, 3])
    o.dead(o.nextPending(1, 'a', 2)[1]!.pos, T0, 'x', false)
    o.delivered(o.nextPending(1, 'b', 1)[0]!.pos, T0)
    expect(o.lowestPendingOrigins().get(1)).toBe(60)
    o.requeueDead(1, ['a'], T0)
    expect(o.nextPending(1, 'a', 10).map((d) => d.seq)).toEqual([1, 2, 3])
    expect(o.lowestPendingOrigins().get(1)).toBe(60)
  })

  it('reports every status change and every drop, and forgets a deleted instance whole', () => {
    const o = new MemoryOutbox()
    const seen: string[] = []
    o.watch((d, from, to) => seen.push(`${d.seq} ${from}→${to ?? 'dropped'}`))
    o.insert([row(1), row(2), row(3)], 1)
    const [a, b] = o.nextPending(1, 'a', 2)
    o.retry(a!.pos, T0, 'x', T0 + 1)
    o.delivered(a!.pos, T0)
    o.dead(b!.pos, T0, 'x', true)
    o.requeueDead(1, ['a'], T0)
    o.deadAllPending(1, 'a', 'gone', null)
    o.prune(0, 1)
    expect(seen).toEqual(['1 pending→delivered', '2 pending→dead', '2 dead→pending', '2 pending→dead', '3 pending→dead', '2 dead→dropped', '1 delivered→dropped'])
    expect(o.forgetInstance(1).map((d) => d.seq)).toEqual([3])
    expect([o.list(1, { limit: 10 }), o.pendingCounts(), o.instanceIds(), o.settledThrough(1, 'a')]).toEqual([[], [], [], null])
  })
})
