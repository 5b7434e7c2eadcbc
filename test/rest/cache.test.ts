import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInstances, instanceId, startTestHub, type TestHub } from '../helpers/hub.js'

let h: TestHub
beforeAll(async () => {
  h = await startTestHub()
  await createInstances(h, ['sales', 'support'])
})
afterAll(() => h.stop())

describe('list cache', () => {
  it('shows a status change in the very next response, with a new ETag and position', async () => {
    const before = await h.req('GET', '/api/instance/list')
    const again = await h.req('GET', '/api/instance/list')
    expect(again.headers.get('etag')).toBe(before.headers.get('etag'))
    expect(again.text).toBe(before.text)

    h.hub.updateStatus(instanceId(h, 'sales'), { state: 'connecting', displayStatus: 'Connecting…' })
    const after = await h.req('GET', '/api/instance/list')
    expect(after.json.instances[0].connection.state).toBe('connecting')
    expect(after.json.instances[0].version).toBe(before.json.instances[0].version + 1)
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'))
    expect(Number(after.headers.get('x-hub-seq'))).toBe(Number(before.headers.get('x-hub-seq')) + 1)
    expect(after.headers.get('x-hub-epoch')).toBe(h.hub.epoch)
  })

  it('never serves a stale body across a hundred interleaved changes', async () => {
    const id = instanceId(h, 'support')
    for (let i = 0; i < 100; i++) {
      h.hub.updateStatus(id, { displayStatus: `Reconnecting (connection lost), attempt ${i}` })
      const [ryze, wachat] = await Promise.all([
        h.req('GET', '/api/instance/list?instanceName=support'),
        h.req('GET', '/api/v1/instance/list?instanceName=support,sales'),
      ])
      expect(ryze.json.instances[0].connection.displayStatus).toBe(`Reconnecting (connection lost), attempt ${i}`)
      expect(wachat.json.instances[1].updatedAt).toBe(ryze.json.instances[0].updatedAt)
    }
  })

  it('answers 304 without a body to If-None-Match with the current ETag, and 200 after a change', async () => {
    const first = await h.req('GET', '/api/instance/list?instanceName=sales')
    const etag = first.headers.get('etag')!
    const same = await h.req('GET', '/api/instance/list?instanceName=sales', { headers: { 'if-none-match': etag } })
    expect(same.status).toBe(304)
    expect(same.text).toBe('')
    expect(same.headers.get('etag')).toBe(etag)
    expect(same.headers.get('x-ratelimit-limit')).not.toBeNull()

    h.hub.updateStatus(instanceId(h, 'sales'), { presenceStatus: 'available' })
    const changed = await h.req('GET', '/api/instance/list?instanceName=sales', { headers: { 'if-none-match': etag } })
    expect(changed.status).toBe(200)
    expect(changed.json.instances[0].connection.presenceStatus).toBe('available')
  })

  it.each([
    ['the weak form', (etag: string) => `W/${etag}`, 304],
    ['a list holding it', (etag: string) => `"other", ${etag}`, 304],
    ['*', () => '*', 304],
    ['another tag', () => '"other"', 200],
  ])('compares If-None-Match weakly: %s answers %i', async (_name, header, status) => {
    const etag = (await h.req('GET', '/api/instance/list')).headers.get('etag')!
    const r = await h.req('GET', '/api/instance/list', { headers: { 'if-none-match': header(etag) } })
    expect(r.status).toBe(status)
  })

  it('changes the ETag of a filtered list only when its own items change', async () => {
    const sales = await h.req('GET', '/api/instance/list?instanceName=sales')
    h.hub.updateStatus(instanceId(h, 'support'), { presenceStatus: 'available' })
    const again = await h.req('GET', '/api/instance/list?instanceName=sales')
    expect(again.headers.get('etag')).toBe(sales.headers.get('etag'))
    expect(Number(again.headers.get('x-hub-seq'))).toBe(Number(sales.headers.get('x-hub-seq')) + 1)
  })

  it('shows a created and a deleted instance at once', async () => {
    await createInstances(h, ['fresh'])
    expect((await h.req('GET', '/api/instance/list')).json.message).toBe('3 Instances found')
    await h.req('DELETE', '/api/instance/delete/fresh')
    const r = await h.req('GET', '/api/instance/list')
    expect(r.json.message).toBe('2 Instances found')
    expect((await h.req('GET', '/api/instance/list?instanceName=fresh')).status).toBe(404)
  })
})

describe('list cache bound', () => {
  it('keeps its byte size within HUB_LIST_CACHE_BYTES when thousands of distinct multi-name filters are asked for, counting each entry\'s key', async () => {
    const bound = 1024 * 1024
    const g = await startTestHub({ HUB_LIST_CACHE_BYTES: String(bound) })
    try {
      // Two unknown names: an empty list (a body of a few dozen bytes) under a key of about 270 characters.
      const filter = (i: number) => `ghost-${String(i).padStart(5, '0')}-${'g'.repeat(120)},phantom-${String(i).padStart(5, '0')}-${'p'.repeat(120)}`
      const first = await g.req('GET', `/api/instance/list?instanceName=${filter(0)}`)
      expect([first.status, first.json.instances]).toEqual([200, []])
      const bodyBytes = Buffer.byteLength(first.text)
      const n = 4000
      let largest = 0
      for (let i = 1; i < n; i++) {
        expect((await g.req('GET', `/api/instance/list?instanceName=${filter(i)}`)).status).toBe(200)
        largest = Math.max(largest, g.http.lists.size.bytes)
      }
      const { entries, bytes } = g.http.lists.size
      expect(largest).toBeLessThanOrEqual(bound)
      // Counting bodies alone, all 4,000 (about 200 KB of bodies) would have been kept.
      expect(entries).toBeLessThan(n)
      // Every entry weighs the same, and more than its body and its key (two bytes a character).
      expect(bytes % entries).toBe(0)
      expect(bytes / entries).toBeGreaterThan(bodyBytes + 2 * filter(0).length)
      expect(entries).toBe(Math.floor(bound / (bytes / entries)))
    } finally {
      await g.stop()
    }
  })
})
