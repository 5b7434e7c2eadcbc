import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { MemoryBus } from '../../src/adapters/memory/bus.js'
import { openDb } from '../../src/adapters/sqlite/db.js'
import { SqliteOutbox } from '../../src/adapters/sqlite/outbox-store.js'
import { SqliteStore } from '../../src/adapters/sqlite/store.js'
import { defaultConfig } from '../../src/core/integrations.js'
import { Hub } from '../../src/hub/hub.js'
import type { ChangeRecord } from '../../src/ports/bus.js'
import type { OutboxRow } from '../../src/ports/outbox.js'
import type { PersistBatch } from '../../src/ports/store.js'

const log = pino({ level: 'silent' })

/** A hub on an in-memory database that writes only when flushed, with every write-behind batch recorded. */
function hubWithAttachingSubscriber() {
  const opened = openDb(':memory:')
  const store = new SqliteStore(opened)
  const batches: PersistBatch[] = []
  const events: string[] = []
  let failNext = false
  const write = store.writeBatch.bind(store)
  store.writeBatch = (b) => {
    if (failNext) {
      failNext = false
      events.push('transaction failed')
      throw new Error('disk full')
    }
    write(b)
    batches.push(structuredClone(b))
    events.push(`transaction: changes ${b.changes.map((c) => c.seq).join(',')}; outbox ${b.outbox.map((o) => o.seq).join(',')}`)
  }
  const bus = new MemoryBus(log)
  const hub = new Hub(store, bus, { persistIntervalMs: 10_000, ringSize: 100, changeLogMax: 1000, changeLogMaxAgeS: 86400, adminToken: undefined }, { now: () => Date.now() }, log)
  hub.start()
  bus.subscribe({
    onChange: (r: ChangeRecord) => {
      if (r.kind !== 'diff') return
      const row: OutboxRow = { id: `msg_${r.seq}`, instanceId: r.instanceId, label: 'default', event: 'instance.state', epoch: r.epoch, seq: r.seq, version: r.version, body: '{}', createdAt: r.at }
      hub.attach([row], () => events.push(`committed ${r.seq}`))
    },
    onRevoke: () => {},
  })
  const account = hub.createAccount('acme', 10).account
  const { instance } = hub.createInstance(account.id, 'sales', defaultConfig())
  hub.flush()
  events.length = 0
  return { hub, opened, instance, events, batches, outbox: new SqliteOutbox(opened), failNext: () => (failNext = true) }
}

describe('the write-behind seam', () => {
  it('commits rows attached while a change is published in that change\'s own transaction, and says so after it', () => {
    const t = hubWithAttachingSubscriber()
    t.hub.updateStatus(t.instance.id, { presenceStatus: 'available' })
    t.hub.updateStatus(t.instance.id, { presenceStatus: 'unavailable' })
    t.hub.flush()
    const [a, b] = [t.instance.version - 1, t.instance.version].map((v) => t.outbox.list(t.instance.id, { limit: 10 }).find((d) => d.version === v)!.seq)
    expect(t.events).toEqual([`transaction: changes ${a},${b}; outbox ${a},${b}`, `committed ${a}`, `committed ${b}`])
    t.opened.close()
  })

  it('keeps a change and its rows together when the transaction fails, and writes them together on the retry', () => {
    const t = hubWithAttachingSubscriber()
    t.failNext()
    t.hub.updateStatus(t.instance.id, { presenceStatus: 'available' })
    const seq = t.hub.account(t.instance.accountId)!.seq
    t.hub.flush()
    expect(t.outbox.list(t.instance.id, { limit: 10 })).toEqual([])
    t.hub.flush()
    expect(t.events).toEqual(['transaction failed', `transaction: changes ${seq}; outbox ${seq}`, `committed ${seq}`])
    t.opened.close()
  })

  it('drops the rows of an instance deleted before they were written, so the rest still commits', () => {
    const t = hubWithAttachingSubscriber()
    const other = t.hub.createInstance(t.instance.accountId, 'support', defaultConfig()).instance
    t.hub.updateStatus(t.instance.id, { presenceStatus: 'available' })
    t.hub.updateStatus(other.id, { presenceStatus: 'available' })
    t.hub.deleteInstance(t.instance.id)
    t.hub.flush()
    expect(t.batches.at(-1)!.outbox.map((o) => o.instanceId)).toEqual([other.id])
    expect(t.outbox.list(other.id, { limit: 10 })).toHaveLength(1)
    t.opened.close()
  })
})
