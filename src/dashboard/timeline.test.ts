import { describe, expect, it } from 'vitest'
import type { InstanceItem } from '../client/index.js'
import { defaultConfig } from '../core/integrations.js'
import { renderRyzeItem } from '../core/item.js'
import { initialStatus, type InstanceStatus } from '../core/status.js'
import { Timelines } from './timeline.js'

function item(status: Partial<InstanceStatus>): InstanceItem {
  const T0 = '2025-01-01T00:00:00.000Z'
  return renderRyzeItem({
    id: 1,
    accountId: 1,
    name: 'sales',
    apiInstanceName: 't1_x_sales',
    createdAt: T0,
    updatedAt: T0,
    version: 1,
    status: { ...initialStatus(T0), ...status },
    config: defaultConfig(),
  })
}

describe('Timelines', () => {
  it('records a state change at connection.since, newest first, after the seeded state', () => {
    const t = new Timelines()
    const a = item({})
    const b = item({ state: 'connecting', displayStatus: 'Connecting…', since: '2025-01-01T00:00:05.000Z' })
    expect(t.record(a, b, '2025-01-01T00:00:06.000Z', 41)).toBe(true)
    expect(t.of('sales')).toEqual([
      { at: '2025-01-01T00:00:05.000Z', seq: 41, state: 'connecting', reason: null, displayStatus: 'Connecting…' },
      { at: '2025-01-01T00:00:00.000Z', seq: null, state: 'disconnected', reason: null, displayStatus: 'Disconnected' },
    ])
  })

  it('records a displayStatus change within one state at the frame time', () => {
    const t = new Timelines()
    const a = item({ state: 'connecting', displayStatus: 'Reconnecting (connection lost), attempt 1' })
    const b = item({ state: 'connecting', displayStatus: 'Reconnecting (connection lost), attempt 2' })
    t.record(a, b, '2025-01-01T00:01:00.000Z')
    expect(t.of('sales')[0]).toEqual({ at: '2025-01-01T00:01:00.000Z', seq: null, state: 'connecting', reason: null, displayStatus: 'Reconnecting (connection lost), attempt 2' })
  })

  it('records a change of reason alone, with the reason', () => {
    const t = new Timelines()
    const lost = { code: 408, name: 'connectionLost', message: 'Connection Lost' }
    const closed = { code: 428, name: 'connectionClosed', message: 'Connection Terminated' }
    const a = item({ state: 'connecting', displayStatus: 'Connecting…', reason: lost })
    expect(t.record(a, item({ state: 'connecting', displayStatus: 'Connecting…', reason: { ...lost } }), 'x')).toBe(false)
    expect(t.record(a, item({ state: 'connecting', displayStatus: 'Connecting…', reason: closed }), '2025-01-01T00:02:00.000Z', 7)).toBe(true)
    expect(t.of('sales')[0]).toEqual({ at: '2025-01-01T00:02:00.000Z', seq: 7, state: 'connecting', reason: closed, displayStatus: 'Connecting…' })
  })

  it('ignores changes that touch neither state, reason nor displayStatus', () => {
    const t = new Timelines()
    expect(t.record(item({}), item({ presenceStatus: 'available' }), 'x')).toBe(false)
    expect(t.of('sales')).toEqual([])
  })

  it('keeps only the newest entries', () => {
    const t = new Timelines(3)
    let prev = item({})
    for (let i = 1; i <= 5; i++) {
      const next = item({ displayStatus: `step ${i}` })
      t.record(prev, next, `2025-01-01T00:00:0${i}.000Z`)
      prev = next
    }
    expect(t.of('sales').map((e) => e.displayStatus)).toEqual(['step 5', 'step 4', 'step 3'])
  })
})
