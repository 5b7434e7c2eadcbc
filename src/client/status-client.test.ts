import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defaultConfig } from '../core/integrations.js'
import { renderRyzeItem } from '../core/item.js'
import { initialStatus } from '../core/status.js'
import type { InstanceItem } from './frames.js'
import type { ChangeBatch, ClientEvent } from './events.js'
import { StatusClient, type SocketLike, type StatusClientOptions } from './status-client.js'

const T0 = '2025-01-01T00:00:00.000Z'

function item(name: string, id = 1): InstanceItem {
  return renderRyzeItem({ id, accountId: 1, name, apiInstanceName: `t1_x_${name}`, createdAt: T0, updatedAt: T0, version: 1, status: initialStatus(T0), config: defaultConfig() })
}

/** A scripted socket: the test opens it, feeds frames and closes it. */
class FakeSocket implements SocketLike {
  static made: FakeSocket[] = []
  readyState = 0
  sent: Record<string, unknown>[] = []
  closedWith: { code?: number; reason?: string } | null = null
  onopen: ((ev: any) => void) | null = null
  onmessage: ((ev: any) => void) | null = null
  onclose: ((ev: any) => void) | null = null
  onerror: ((ev: any) => void) | null = null
  constructor(readonly url: string) {
    FakeSocket.made.push(this)
  }
  send(data: string) {
    this.sent.push(JSON.parse(data))
  }
  close(code?: number, reason?: string) {
    this.readyState = 3
    this.closedWith = { code, reason }
  }
  open() {
    this.readyState = 1
    this.onopen?.({})
  }
  frame(f: unknown) {
    this.onmessage?.({ data: JSON.stringify(f) })
  }
  drop(code: number, reason = '') {
    this.readyState = 3
    this.onclose?.({ code, reason })
  }
}

const last = () => FakeSocket.made[FakeSocket.made.length - 1]!

function client(extra: Partial<StatusClientOptions> = {}) {
  const events: ClientEvent[] = []
  const c = new StatusClient({
    url: 'ws://hub.test/ws',
    token: 't/k+n',
    WebSocket: FakeSocket,
    random: () => 0.5,
    heartbeatMs: 0,
    onEvent: (e) => events.push(e),
    ...extra,
  })
  const states = () => events.filter((e) => e.type === 'state').map((e) => (e.type === 'state' ? `${e.state}:${e.delayMs ?? '-'}:${e.reason}` : ''))
  return { c, events, states }
}

function snapshot(s: FakeSocket, seq = 10, names = ['a'], epoch = 'e1') {
  const id = String(s.sent[0]!.id)
  s.frame({ type: 'snapshot', id, epoch, seq, recovered: false, instances: names.map((n, i) => item(n, i + 1)) })
}

beforeEach(() => {
  FakeSocket.made = []
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('StatusClient', () => {
  describe('#start', () => {
    it('puts the token in the query and subscribes to every instance in ordered mode without a position', () => {
      const { c } = client()
      c.start()
      expect(last().url).toBe('ws://hub.test/ws?token=t%2Fk%2Bn')
      last().open()
      expect(last().sent).toEqual([{ type: 'subscribe', id: '1', instances: '*', mode: 'ordered' }])
      expect(c.state).toBe('connecting')
    })

    it('subscribes to the named instances in the requested mode', () => {
      const { c } = client({ instances: ['sales', 'support'], mode: 'latest' })
      c.start()
      last().open()
      expect(last().sent[0]).toEqual({ type: 'subscribe', id: '1', instances: ['sales', 'support'], mode: 'latest' })
    })

    it('becomes open on the snapshot and fills the mirror', () => {
      const { c, events } = client()
      c.start()
      last().open()
      snapshot(last(), 10, ['a', 'b'])
      expect(c.state).toBe('open')
      expect([...c.mirror.keys()]).toEqual(['a', 'b'])
      expect(c.position).toEqual({ epoch: 'e1', seq: 10 })
      expect(c.lastRecovered).toBe(false)
      expect(events.map((e) => e.type)).toEqual(['state', 'state', 'snapshot'])
    })
  })

  describe('reconnect', () => {
    it('retries after a jittered delay and resumes from the last applied seq', () => {
      const { c, events, states } = client({ backoff: { baseMs: 1000, maxMs: 8000 } })
      c.start()
      last().open()
      snapshot(last())
      last().frame({ type: 'diff', epoch: 'e1', seq: 14, instance: 'a', version: 2, at: T0, changes: { 'connection.state': 'connecting' } })
      last().drop(1006)
      expect(c.state).toBe('reconnecting')
      vi.advanceTimersByTime(499)
      expect(FakeSocket.made).toHaveLength(1)
      vi.advanceTimersByTime(1)
      expect(FakeSocket.made).toHaveLength(2)
      last().open()
      expect(last().sent[0]).toEqual({ type: 'subscribe', id: '2', instances: '*', mode: 'ordered', since: { epoch: 'e1', seq: 14 } })
      last().frame({ type: 'resumed', id: '2', epoch: 'e1', seq: 14, recovered: true })
      expect(c.state).toBe('open')
      expect(c.lastRecovered).toBe(true)
      expect(events.filter((e) => e.type === 'resumed')).toEqual([{ type: 'resumed', recovered: true, position: { epoch: 'e1', seq: 14 } }])
      expect(states()).toEqual(['connecting:-:start', 'open:-:snapshot', 'reconnecting:500:connection lost', 'open:-:resumed'])
    })

    it('doubles the delay ceiling while opens are unstable and resets it after a stable open', () => {
      const { c, events } = client({ backoff: { baseMs: 1000, maxMs: 60_000 }, stableMs: 5000 })
      const delays = () => events.flatMap((e) => (e.type === 'state' && e.state === 'reconnecting' ? [e.delayMs] : []))
      c.start()
      for (let i = 0; i < 3; i++) {
        last().drop(1006)
        vi.runOnlyPendingTimers()
      }
      last().open()
      snapshot(last())
      vi.advanceTimersByTime(5000)
      last().drop(1001)
      expect(delays()).toEqual([500, 1000, 2000, 500])
    })

    it('waits between half and all of maxMs after 4029', () => {
      const { c, states } = client({ backoff: { baseMs: 1000, maxMs: 20_000 } })
      c.start()
      last().open()
      last().drop(4029, 'rate limited')
      expect(states().at(-1)).toBe('reconnecting:15000:rate limited')
    })

    it('reconnects after 4008 (slow consumer) and resumes', () => {
      const { c } = client()
      c.start()
      last().open()
      snapshot(last(), 33)
      last().drop(4008, 'slow consumer')
      vi.runOnlyPendingTimers()
      last().open()
      expect(last().sent[0]!.since).toEqual({ epoch: 'e1', seq: 33 })
    })

    it('resubscribes without a position when a frame carries another epoch', () => {
      const { c, states } = client()
      c.start()
      last().open()
      snapshot(last())
      last().frame({ type: 'diff', epoch: 'e2', seq: 11, instance: 'a', version: 2, at: T0, changes: {} })
      expect(last().closedWith).toEqual({ code: 1000, reason: 'client closing' })
      expect(states().at(-1)).toBe('reconnecting:250:resync: epoch changed from e1 to e2')
      vi.runOnlyPendingTimers()
      last().open()
      expect(last().sent[0]).toEqual({ type: 'subscribe', id: '2', instances: '*', mode: 'ordered' })
      expect(c.mirror.size).toBe(1)
    })

    it('ends a silent socket after two heartbeat periods and reconnects', () => {
      const { c, states } = client({ heartbeatMs: 1000 })
      c.start()
      last().open()
      snapshot(last())
      vi.advanceTimersByTime(1000)
      expect(last().sent.at(-1)).toEqual({ type: 'ping', id: 'hb1' })
      last().frame({ type: 'pong', id: 'hb1' })
      vi.advanceTimersByTime(1000)
      expect(c.state).toBe('open')
      vi.advanceTimersByTime(2000)
      expect(states().at(-1)).toBe('reconnecting:250:heartbeat timeout')
    })
  })

  describe('named subscriptions', () => {
    const removed = (s: FakeSocket, seq: number, name: string) => s.frame({ type: 'removed', epoch: 'e1', seq, instance: name })

    it('drops an instance the hub reports removed from the names it resubscribes to', () => {
      const { c } = client({ instances: ['a', 'b'] })
      c.start()
      last().open()
      snapshot(last(), 10, ['a', 'b'])
      removed(last(), 11, 'b')
      last().drop(1006)
      vi.runOnlyPendingTimers()
      last().open()
      expect(last().sent).toEqual([{ type: 'subscribe', id: '2', instances: ['a'], mode: 'ordered', since: { epoch: 'e1', seq: 11 } }])
    })

    it('drops the names, given by name or apiInstanceName, that a snapshot answering its resume leaves out', () => {
      const { c } = client({ instances: ['a', 't1_x_b', 'c'] })
      c.start()
      last().open()
      snapshot(last(), 10, ['a', 'b', 'c'])
      last().drop(1006)
      vi.runOnlyPendingTimers()
      last().open()
      expect(last().sent[0]!.instances).toEqual(['a', 't1_x_b', 'c'])
      snapshot(last(), 20, ['c'])
      last().drop(1006)
      vi.runOnlyPendingTimers()
      last().open()
      expect(last().sent).toEqual([{ type: 'subscribe', id: '3', instances: ['c'], mode: 'ordered', since: { epoch: 'e1', seq: 20 } }])
    })

    it('stops with reason "every subscribed instance was removed" instead of subscribing to none', () => {
      const { c, states } = client({ instances: ['b'] })
      c.start()
      last().open()
      snapshot(last(), 10, ['b'])
      removed(last(), 11, 'b')
      expect(c.state).toBe('open')
      last().drop(1006)
      vi.runOnlyPendingTimers()
      last().open()
      expect(last().sent).toEqual([])
      expect(c.state).toBe('closed')
      expect(states().at(-1)).toBe('closed:-:every subscribed instance was removed')
    })
  })

  describe('terminal closes', () => {
    it('stops on 4001 and never reconnects', () => {
      const { c, states } = client()
      c.start()
      last().open()
      snapshot(last())
      last().drop(4001, 'token revoked')
      vi.runAllTimers()
      expect(FakeSocket.made).toHaveLength(1)
      expect(c.state).toBe('closed')
      expect(states().at(-1)).toBe('closed:-:token revoked')
    })

    it('stops when Node reports the upgrade was refused with 401', () => {
      const { c, states } = client()
      c.start()
      last().onerror?.({ message: 'Unexpected server response: 401' })
      last().drop(1006)
      vi.runAllTimers()
      expect(FakeSocket.made).toHaveLength(1)
      expect(states().at(-1)).toBe('closed:-:token refused (HTTP 401)')
    })

    it('stops and reports when the hub refuses the subscription', () => {
      const { c, events, states } = client()
      c.start()
      last().open()
      last().frame({ type: 'error', id: '1', message: 'Token does not have access to this instance' })
      expect(events.filter((e) => e.type === 'error')).toEqual([{ type: 'error', message: 'Token does not have access to this instance', id: '1' }])
      expect(states().at(-1)).toBe('closed:-:subscription refused: Token does not have access to this instance')
    })
  })

  describe('#stop', () => {
    it('closes the socket, cancels a scheduled retry and keeps the mirror', () => {
      const { c } = client()
      c.start()
      last().open()
      snapshot(last())
      last().drop(1006)
      c.stop()
      vi.runAllTimers()
      expect(FakeSocket.made).toHaveLength(1)
      expect(c.state).toBe('closed')
      expect(c.mirror.size).toBe(1)
    })
  })

  describe('#onChange', () => {
    it('delivers the names changed since the last flush in one batch', () => {
      let flush: (() => void) | null = null
      const batches: ChangeBatch[] = []
      const { c } = client({ schedule: (f) => (flush = f), onChange: (b) => batches.push(b) })
      c.start()
      last().open()
      snapshot(last(), 10, ['a', 'b'])
      flush!()
      last().frame({ type: 'diff', epoch: 'e1', seq: 11, instance: 'a', version: 2, at: T0, changes: {} })
      last().frame({ type: 'added', epoch: 'e1', seq: 12, instance: item('c', 3) })
      last().frame({ type: 'removed', epoch: 'e1', seq: 13, instance: 'b' })
      last().frame({ type: 'removed', epoch: 'e1', seq: 14, instance: 'c' })
      flush!()
      expect(batches).toEqual([
        { reset: true, upserted: new Set(), removed: new Set() },
        { reset: false, upserted: new Set(['a']), removed: new Set(['b', 'c']) },
      ])
    })
  })

  it('reports a socket constructor that throws and retries like a lost socket', () => {
    let fail = true
    class Refusing extends FakeSocket {
      constructor(url: string) {
        if (fail) throw new Error('blocked by CSP')
        super(url)
      }
    }
    const { c, events, states } = client({ WebSocket: Refusing })
    c.start()
    expect(events.filter((e) => e.type === 'error')).toEqual([{ type: 'error', message: 'cannot open the socket: blocked by CSP', id: null }])
    expect(states().at(-1)).toBe('reconnecting:250:cannot open the socket')
    fail = false
    vi.runOnlyPendingTimers()
    expect(FakeSocket.made).toHaveLength(1)
    expect(c.state).toBe('reconnecting')
  })

  it('refuses a url that is not ws:// or wss://', () => {
    expect(() => new StatusClient({ url: 'http://hub/ws', token: 't', WebSocket: FakeSocket })).toThrow('StatusClient url must be ws:// or wss://, got http://hub/ws')
  })
})
