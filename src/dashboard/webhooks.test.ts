import { describe, expect, it } from 'vitest'
import type { Api } from './api.js'
import { COUNT_LIMIT, countText, fetchDeliveries, fetchHooks, requeuedText, retryDead, rowsOf } from './webhooks.js'

const dead = (id: string, seq: number) => ({
  id,
  label: 'default',
  event: 'instance.state',
  seq,
  version: 3,
  status: 'dead',
  attempts: 4,
  createdAt: '2025-01-01T00:00:00.000Z',
  lastAttemptAt: '2025-01-01T00:00:01.000Z',
  lastError: 'HTTP 500',
  nextAttemptAt: null,
})

describe('fetchDeliveries', () => {
  it('counts pending and dead from a page of each status, and lists the latest from an unfiltered page', async () => {
    const asked: string[] = []
    const api: Api = async (method, path) => {
      asked.push(`${method} ${path}`)
      if (path.includes('status=pending')) return { success: true, deliveries: [{ ...dead('p1', 9), status: 'pending', attempts: 1, nextAttemptAt: '2025-01-01T00:00:02.000Z' }] }
      if (path.includes('status=dead')) return { success: true, deliveries: [dead('d2', 8), dead('d1', 7)] }
      return { success: true, deliveries: [{ ...dead('p1', 9), status: 'pending', attempts: 1, nextAttemptAt: '2025-01-01T00:00:02.000Z' }, dead('d2', 8), dead('d1', 7)] }
    }
    const d = await fetchDeliveries(api, 'a b')
    expect([d.pending, d.dead]).toEqual([1, 2])
    expect(d.latest.map((r) => [r.id, r.seq, r.status, r.attempts, r.lastError, r.nextAttemptAt])).toEqual([
      ['p1', 9, 'pending', 1, 'HTTP 500', '2025-01-01T00:00:02.000Z'],
      ['d2', 8, 'dead', 4, 'HTTP 500', null],
      ['d1', 7, 'dead', 4, 'HTTP 500', null],
    ])
    expect(asked.sort()).toEqual([
      'GET /api/events/webhookDeliveries/a%20b?limit=10',
      `GET /api/events/webhookDeliveries/a%20b?status=dead&limit=${COUNT_LIMIT}`,
      `GET /api/events/webhookDeliveries/a%20b?status=pending&limit=${COUNT_LIMIT}`,
    ])
  })
})

describe('rowsOf', () => {
  it('drops entries without an id or with an unknown status, and reads a wrong-typed field as absent', () => {
    expect(rowsOf({ deliveries: [{ status: 'dead' }, { id: 'x', status: 'lost' }, { id: 'y', status: 'delivered', seq: '4', attempts: null, lastError: 5, nextAttemptAt: 'soon' }] })).toEqual([
      { id: 'y', label: '', event: '', seq: null, status: 'delivered', attempts: 0, lastError: null, nextAttemptAt: null },
    ])
    expect(rowsOf({})).toEqual([])
  })
})

describe('fetchHooks and retryDead', () => {
  it('reads the webhooks by label, and posts {} to retry, answering the hub\'s requeued', async () => {
    const calls: unknown[] = []
    const api: Api = async (method, path, body) => {
      calls.push([method, path, body])
      if (method === 'GET') return { success: true, webhooks: [{ label: 'default', enabled: true, url: 'https://h.example/x' }, { enabled: true }, { label: 'old', enabled: false }] }
      return { success: true, message: '3 deliveries re-queued', requeued: 3 }
    }
    expect(await fetchHooks(api, 'sales')).toEqual([
      { label: 'default', enabled: true, url: 'https://h.example/x' },
      { label: 'old', enabled: false, url: '' },
    ])
    expect(await retryDead(api, 'sales')).toBe(3)
    expect(calls).toEqual([
      ['GET', '/api/events/getWebhook/sales', undefined],
      ['POST', '/api/events/webhookDeliveries/sales/retry', {}],
    ])
  })
})

describe('countText and requeuedText', () => {
  it('says "or more" once a count fills the page, and words the retry answer', () => {
    expect([countText(0), countText(499), countText(COUNT_LIMIT)]).toEqual(['0', '499', '500 or more'])
    expect([requeuedText(1), requeuedText(3), requeuedText(0)]).toEqual([
      'Re-queued 1 dead delivery.',
      'Re-queued 3 dead deliveries.',
      'Nothing to re-queue: no dead deliveries of an enabled webhook.',
    ])
  })
})
