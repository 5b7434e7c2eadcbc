import { describe, expect, it } from 'vitest'
import type { ChangeRecord } from '../../ports/bus.js'
import { MemoryBus } from './bus.js'

const record = (seq: number) => ({ seq, accountId: 1 }) as ChangeRecord

describe('MemoryBus', () => {
  it('delivers every record to every subscriber synchronously, in publish order, before publish returns', () => {
    const bus = new MemoryBus({ error() {} })
    const seen: string[] = []
    bus.subscribe({ onChange: (r) => seen.push(`a${r.seq}`), onRevoke: () => {} })
    bus.subscribe({ onChange: (r) => seen.push(`b${r.seq}`), onRevoke: () => {} })
    bus.publish(record(1))
    expect(seen).toEqual(['a1', 'b1'])
    bus.publish(record(2))
    expect(seen).toEqual(['a1', 'b1', 'a2', 'b2'])
  })

  it('still delivers to the others when one subscriber throws, and logs it', () => {
    const errors: object[] = []
    const bus = new MemoryBus({ error: (o) => errors.push(o) })
    const seen: number[] = []
    bus.subscribe({ onChange: () => { throw new Error('broken edge') }, onRevoke: () => {} })
    bus.subscribe({ onChange: (r) => seen.push(r.seq), onRevoke: () => {} })
    bus.publish(record(7))
    expect(seen).toEqual([7])
    expect(errors).toEqual([{ err: new Error('broken edge'), seq: 7, accountId: 1 }])
  })

  it('hands revocations to every subscriber, and stops delivering after unsubscribe', () => {
    const bus = new MemoryBus({ error() {} })
    const revoked: string[][] = []
    const seen: number[] = []
    const off = bus.subscribe({ onChange: (r) => seen.push(r.seq), onRevoke: (h) => revoked.push([...h]) })
    bus.revoke(['t1', 't2'])
    off()
    bus.publish(record(1))
    bus.revoke(['t3'])
    expect(revoked).toEqual([['t1', 't2']])
    expect(seen).toEqual([])
  })
})
