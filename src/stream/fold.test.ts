import { describe, expect, it } from 'vitest'
import type { RyzeItem } from '../core/item.js'
import type { ChangeRecord } from '../ports/bus.js'
import { Folder } from './fold.js'

const item = { name: 'a', version: 1, updatedAt: 't1', connection: { state: 'disconnected', displayStatus: 'Disconnected' } } as unknown as RyzeItem

function record(seq: number, kind: ChangeRecord['kind'], fields: Partial<ChangeRecord> = {}): ChangeRecord {
  return {
    seq,
    instanceId: 1,
    instance: 'a',
    kind,
    at: 0,
    frame: '',
    accountId: 1,
    epoch: 'e1',
    apiInstanceName: 't1_x_a',
    version: seq,
    time: `t${seq}`,
    changes: null,
    item: null,
    connection: item.connection,
    event: 'disconnected',
    ...fields,
  }
}

const frames = (f: Folder) => f.drain().map((s) => JSON.parse(s))

describe('Folder', () => {
  it('merges the diffs of one instance path by path, the newest value and position winning', () => {
    const f = new Folder()
    f.add(record(4, 'diff', { changes: { 'connection.state': 'connecting', 'connection.displayStatus': 'Connecting…' } }))
    f.add(record(6, 'diff', { changes: { 'connection.state': 'connected' } }))
    expect(frames(f)).toEqual([
      { type: 'diff', epoch: 'e1', seq: 6, instance: 'a', version: 6, at: 't6', changes: { 'connection.state': 'connected', 'connection.displayStatus': 'Connecting…' } },
    ])
  })

  it('sends an unseen instance as one added with every later diff applied, leaving the record untouched', () => {
    const f = new Folder()
    f.add(record(3, 'added', { item }))
    f.add(record(5, 'diff', { changes: { version: 2, 'connection.state': 'connecting' } }))
    expect(frames(f)).toEqual([{ type: 'added', epoch: 'e1', seq: 5, instance: { ...item, version: 2, connection: { state: 'connecting', displayStatus: 'Disconnected' } } }])
    expect(item.connection.state).toBe('disconnected')
  })

  it('drops an instance that was added and removed while folded', () => {
    const f = new Folder()
    f.add(record(3, 'added', { item }))
    f.add(record(4, 'removed'))
    expect(f.size).toBe(0)
    expect(frames(f)).toEqual([])
  })

  it('keeps a removal after diffs as the removal', () => {
    const f = new Folder()
    f.add(record(3, 'diff', { changes: { 'connection.state': 'connecting' } }))
    f.add(record(4, 'removed'))
    expect(frames(f)).toEqual([{ type: 'removed', epoch: 'e1', seq: 4, instance: 'a' }])
  })

  it('drains one frame per instance in seq order, and forgets the instances it no longer follows', () => {
    const f = new Folder()
    f.add(record(7, 'diff', { instanceId: 2, instance: 'b', changes: { x: 1 } }))
    f.add(record(5, 'diff', { instanceId: 1, changes: { x: 2 } }))
    f.add(record(9, 'diff', { instanceId: 3, instance: 'c', changes: { x: 3 } }))
    f.retain((id) => id !== 3)
    expect(frames(f).map((x) => [x.seq, x.instance])).toEqual([
      [5, 'a'],
      [7, 'b'],
    ])
    expect(f.size).toBe(0)
  })
})
