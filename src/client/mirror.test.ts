import { describe, expect, it } from 'vitest'
import { defaultConfig } from '../core/integrations.js'
import { renderRyzeItem } from '../core/item.js'
import { initialStatus } from '../core/status.js'
import type { InstanceItem } from './frames.js'
import { Mirror, patched } from './mirror.js'

const T0 = '2025-01-01T00:00:00.000Z'

function item(name: string, id = 1, version = 1): InstanceItem {
  return renderRyzeItem({
    id,
    accountId: 1,
    name,
    apiInstanceName: `t1_abc_${name}`,
    createdAt: T0,
    updatedAt: T0,
    version,
    status: initialStatus(T0),
    config: defaultConfig(),
  })
}

function synced(names: string[], seq = 10): Mirror {
  const m = new Mirror()
  m.expectReply('1')
  m.apply({ type: 'snapshot', id: '1', epoch: 'e1', seq, recovered: false, instances: names.map((n, i) => item(n, i + 1)) })
  return m
}

const diff = (seq: number, instance: string, version: number, changes: Record<string, unknown>, epoch = 'e1') =>
  ({ type: 'diff', epoch, seq, instance, version, at: T0, changes }) as const

describe('Mirror', () => {
  describe('#apply snapshot', () => {
    it('replaces every item and takes the snapshot position', () => {
      const m = synced(['old'])
      m.expectReply('2')
      const out = m.apply({ type: 'snapshot', id: '2', epoch: 'e2', seq: 40, recovered: false, instances: [item('a'), item('b', 2)] })
      expect(out).toEqual([{ kind: 'snapshot', position: { epoch: 'e2', seq: 40 }, recovered: false }])
      expect([...m.items.keys()]).toEqual(['a', 'b'])
      expect(m.position).toEqual({ epoch: 'e2', seq: 40 })
    })

    it('ignores a reply whose id is not the awaited subscribe', () => {
      const m = synced(['a'])
      m.expectReply('3')
      expect(m.apply({ type: 'snapshot', id: '2', epoch: 'e1', seq: 99, recovered: false, instances: [] })).toEqual([])
      expect(m.position).toEqual({ epoch: 'e1', seq: 10 })
      expect(m.items.size).toBe(1)
    })

    it('keeps instance names that collide with Object.prototype as ordinary keys', () => {
      const m = synced(['__proto__', 'constructor', 'toString'])
      expect([...m.items.keys()]).toEqual(['__proto__', 'constructor', 'toString'])
      m.apply(diff(11, '__proto__', 2, { 'connection.state': 'connecting' }))
      expect(m.items.get('__proto__')!.connection.state).toBe('connecting')
      expect(({} as Record<string, unknown>).connection).toBeUndefined()
    })
  })

  describe('#apply diff', () => {
    it('applies dotted paths to a copy and advances the position to the frame seq', () => {
      const m = synced(['sales'])
      const before = m.items.get('sales')!
      const out = m.apply(diff(12, 'sales', 2, { version: 2, 'connection.state': 'connecting', 'connection.displayStatus': 'Connecting…' }))
      const after = m.items.get('sales')!
      expect(out).toEqual([{ kind: 'diff', seq: 12, name: 'sales', item: after, previous: before, changes: expect.any(Object), at: T0 }])
      expect(after.connection.state).toBe('connecting')
      expect(after.connection.displayStatus).toBe('Connecting…')
      expect(after.version).toBe(2)
      expect(before.connection.state).toBe('disconnected')
      expect(after.profile).toBe(before.profile)
      expect(m.position).toEqual({ epoch: 'e1', seq: 12 })
    })

    it('replaces a nested value such as connection.reason whole', () => {
      const m = synced(['sales'])
      m.apply(diff(11, 'sales', 2, { 'connection.reason': { code: 428, name: 'connectionClosed', message: 'Connection Terminated' } }))
      expect(m.items.get('sales')!.connection.reason).toEqual({ code: 428, name: 'connectionClosed', message: 'Connection Terminated' })
    })

    it('skips a frame whose seq is not above the position, as a duplicate', () => {
      const m = synced(['sales'], 10)
      m.apply(diff(11, 'sales', 2, { 'connection.state': 'connecting' }))
      const out = m.apply(diff(11, 'sales', 2, { 'connection.state': 'connected' }))
      expect(out).toEqual([{ kind: 'skipped', seq: 11, why: 'duplicate' }])
      expect(m.apply(diff(7, 'sales', 3, { 'connection.state': 'connected' }))).toEqual([{ kind: 'skipped', seq: 7, why: 'duplicate' }])
      expect(m.items.get('sales')!.connection.state).toBe('connecting')
      expect(m.position).toEqual({ epoch: 'e1', seq: 11 })
    })

    it('skips a change whose version is not newer than the item but still advances the position', () => {
      const m = synced(['sales'])
      expect(m.apply(diff(11, 'sales', 1, { 'connection.state': 'connected' }))).toEqual([{ kind: 'skipped', seq: 11, why: 'stale-version' }])
      expect(m.items.get('sales')!.connection.state).toBe('disconnected')
      expect(m.position).toEqual({ epoch: 'e1', seq: 11 })
    })

    it('accepts a gap in seq, since other instances may own the missing numbers', () => {
      const m = synced(['sales'])
      m.apply(diff(25, 'sales', 2, { 'connection.state': 'connecting' }))
      expect(m.position).toEqual({ epoch: 'e1', seq: 25 })
    })

    it('asks for a resync when the epoch differs from the position', () => {
      const m = synced(['sales'])
      expect(m.apply(diff(11, 'sales', 2, {}, 'e9'))).toEqual([{ kind: 'resync', reason: 'epoch changed from e1 to e9' }])
      expect(m.position).toEqual({ epoch: 'e1', seq: 10 })
    })

    it('asks for a resync when the instance is not in the mirror', () => {
      const m = synced(['sales'])
      expect(m.apply(diff(11, 'ghost', 2, {}))).toEqual([{ kind: 'resync', reason: 'diff 11 for unknown instance ghost' }])
    })

    it('asks for a resync when a live frame arrives before any snapshot', () => {
      const m = new Mirror()
      expect(m.apply(diff(1, 'sales', 2, {}))).toEqual([{ kind: 'resync', reason: 'diff frame before any snapshot' }])
    })
  })

  describe('#apply added and removed', () => {
    it('adds an item under its name and removes it by name', () => {
      const m = synced(['a'])
      const b = item('b', 2)
      expect(m.apply({ type: 'added', epoch: 'e1', seq: 11, instance: b })).toEqual([{ kind: 'added', seq: 11, name: 'b', item: b, previous: undefined }])
      expect([...m.items.keys()]).toEqual(['a', 'b'])
      expect(m.apply({ type: 'removed', seq: 12, instance: 'a' })).toEqual([{ kind: 'removed', seq: 12, name: 'a', previous: item('a') }])
      expect([...m.items.keys()]).toEqual(['b'])
      expect(m.position).toEqual({ epoch: 'e1', seq: 12 })
    })

    it('skips the removal of an unknown name but advances the position', () => {
      const m = synced(['a'])
      expect(m.apply({ type: 'removed', seq: 11, instance: 'zz' })).toEqual([{ kind: 'skipped', seq: 11, why: 'unknown-instance' }])
      expect(m.position).toEqual({ epoch: 'e1', seq: 11 })
    })
  })

  describe('#apply resumed', () => {
    it('keeps the items and position when the hub resumes at the mirror position', () => {
      const m = synced(['a'])
      m.expectReply('2')
      expect(m.apply({ type: 'resumed', id: '2', epoch: 'e1', seq: 10, recovered: true })).toEqual([
        { kind: 'resumed', position: { epoch: 'e1', seq: 10 }, recovered: true },
      ])
      expect(m.items.size).toBe(1)
    })

    it('asks for a resync when the hub resumes at another position', () => {
      const m = synced(['a'])
      m.expectReply('2')
      expect(m.apply({ type: 'resumed', id: '2', epoch: 'e1', seq: 9, recovered: true })).toEqual([
        { kind: 'resync', reason: 'resumed at e1:9, but the mirror is at e1:10' },
      ])
    })
  })

  describe('#expectReply', () => {
    it('holds live frames until the reply, then applies those newer than it', () => {
      const m = new Mirror()
      m.expectReply('1')
      expect(m.apply(diff(5, 'a', 2, { 'connection.state': 'connecting' }))).toEqual([])
      expect(m.apply(diff(6, 'a', 3, { 'connection.state': 'connected' }))).toEqual([])
      const out = m.apply({ type: 'snapshot', id: '1', epoch: 'e1', seq: 5, recovered: false, instances: [item('a', 1, 2)] })
      expect(out.map((a) => a.kind)).toEqual(['snapshot', 'skipped', 'diff'])
      expect(m.items.get('a')!.connection.state).toBe('connected')
      expect(m.position).toEqual({ epoch: 'e1', seq: 6 })
    })
  })

  describe('#forgetPosition', () => {
    it('clears the position and keeps the items until the next snapshot', () => {
      const m = synced(['a'])
      m.forgetPosition()
      expect(m.position).toBeNull()
      expect(m.items.size).toBe(1)
    })
  })
})

describe('patched', () => {
  it('creates a missing group and ignores paths through __proto__, constructor or prototype', () => {
    const base = item('a')
    const out = patched(base, { changes: { 'extra.flag': true, '__proto__.polluted': 1, 'constructor.prototype.x': 1 } }) as unknown as Record<string, unknown>
    expect(out.extra).toEqual({ flag: true })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
  })
})
