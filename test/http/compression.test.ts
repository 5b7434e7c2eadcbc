/**
 * Compressed list bodies: `br` or `gzip` by Accept-Encoding, each made once per cached body and
 * coding (never per request), with `Vary: Accept-Encoding` and a strong ETag per representation.
 */
import { request } from 'node:http'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInstances, instanceId, startTestHub, type TestHub } from '../helpers/hub.js'

let h: TestHub
beforeAll(async () => {
  h = await startTestHub()
  await createInstances(h, Array.from({ length: 20 }, (_, i) => `inst-${i}`))
})
afterAll(() => h.stop())

interface Raw {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** node:http, not fetch: fetch decompresses on its own and hides what was sent. */
function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: h.port, path, method, headers: { token: h.token, ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (d: Buffer) => chunks.push(d))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end()
  })
}

const decode = { gzip: gunzipSync, br: brotliDecompressSync }

describe('compressed lists', () => {
  it.each([
    ['gzip', 'gzip'],
    ['br', 'br'],
    ['gzip, deflate, br', 'br'],
    ['br;q=0.5, gzip', 'gzip'],
  ] as const)('answers Accept-Encoding: %s with %s, the same bytes once decoded, and a per-coding ETag', async (accept, coding) => {
    for (const path of ['/api/instance/list', '/api/v1/instance/list']) {
      const plain = await get(path)
      const coded = await get(path, { 'accept-encoding': accept })
      expect(coded.status).toBe(200)
      expect(coded.headers['content-encoding']).toBe(coding)
      expect(coded.headers.vary).toBe('Accept-Encoding')
      expect(Number(coded.headers['content-length'])).toBe(coded.body.length)
      expect(decode[coding](coded.body).equals(plain.body)).toBe(true)
      expect(coded.body.length).toBeLessThan(plain.body.length / 4)
      expect(coded.headers.etag).toBe(`${String(plain.headers.etag).slice(0, -1)}-${coding}"`)
      expect(coded.headers['x-hub-seq']).toBe(plain.headers['x-hub-seq'])
      expect(coded.headers['x-hub-epoch']).toBe(plain.headers['x-hub-epoch'])
      expect(plain.headers.vary).toBe('Accept-Encoding')
      expect(plain.headers['content-encoding']).toBeUndefined()
    }
  })

  it.each(['', 'identity', 'deflate', 'gzip;q=0, br;q=0', 'gzip;q=0.5, identity'])('answers Accept-Encoding %j uncompressed', async (accept) => {
    const r = await get('/api/instance/list', accept === '' ? {} : { 'accept-encoding': accept })
    expect(r.headers['content-encoding']).toBeUndefined()
    expect(JSON.parse(r.body.toString()).instances).toHaveLength(20)
  })

  it('compresses each body once per coding however many ask, concurrently or after', async () => {
    const before = h.http.lists.compressions
    const path = '/api/instance/list?instanceName=inst-1,inst-2,inst-3'
    const first = await Promise.all(Array.from({ length: 20 }, () => get(path, { 'accept-encoding': 'gzip' })))
    const later = await Promise.all(Array.from({ length: 20 }, () => get(path, { 'accept-encoding': 'gzip' })))
    expect(h.http.lists.compressions).toBe(before + 1)
    for (const r of [...first, ...later]) expect(r.body.equals(first[0]!.body)).toBe(true)
    await get(path, { 'accept-encoding': 'br' })
    await get(path, { 'accept-encoding': 'br' })
    expect(h.http.lists.compressions).toBe(before + 2)
    // A change makes a new body: compressed again on the next ask, showing the change.
    h.hub.updateStatus(instanceId(h, 'inst-2'), { state: 'connecting', displayStatus: 'Connecting…' })
    const changed = await get(path, { 'accept-encoding': 'gzip' })
    expect(h.http.lists.compressions).toBe(before + 3)
    expect(JSON.parse(gunzipSync(changed.body).toString()).instances[1].connection.displayStatus).toBe('Connecting…')
  })

  it('counts the compressed bytes in the cache bound', async () => {
    const path = '/api/instance/list?instanceName=inst-4,inst-5,inst-6,inst-7'
    await get(path)
    const before = h.http.lists.size.bytes
    const coded = await get(path, { 'accept-encoding': 'br' })
    expect(h.http.lists.size.bytes).toBe(before + coded.body.length)
  })

  it('answers 304 to the ETag of the representation the request selects, and 200 to another coding’s', async () => {
    const gz = await get('/api/instance/list', { 'accept-encoding': 'gzip' })
    const again = await get('/api/instance/list', { 'accept-encoding': 'gzip', 'if-none-match': String(gz.headers.etag) })
    expect(again.status).toBe(304)
    expect(again.body.length).toBe(0)
    expect(again.headers.etag).toBe(gz.headers.etag)
    expect(again.headers.vary).toBe('Accept-Encoding')
    expect(again.headers['content-encoding']).toBeUndefined()
    expect((await get('/api/instance/list', { 'accept-encoding': 'gzip', 'if-none-match': `W/${gz.headers.etag}` })).status).toBe(304)
    expect((await get('/api/instance/list', { 'if-none-match': String(gz.headers.etag) })).status).toBe(200)
    expect((await get('/api/instance/list', { 'accept-encoding': 'br', 'if-none-match': String(gz.headers.etag) })).status).toBe(200)
    const plain = await get('/api/instance/list')
    expect((await get('/api/instance/list', { 'accept-encoding': 'gzip', 'if-none-match': String(plain.headers.etag) })).status).toBe(200)
    expect((await get('/api/instance/list', { 'if-none-match': String(plain.headers.etag) })).status).toBe(304)
  })

  it('answers HEAD with the compressed length and no body', async () => {
    const coded = await get('/api/instance/list', { 'accept-encoding': 'br' })
    const head = await get('/api/instance/list', { 'accept-encoding': 'br' }, 'HEAD')
    expect(head.status).toBe(200)
    expect(head.body.length).toBe(0)
    expect(head.headers['content-encoding']).toBe('br')
    expect(Number(head.headers['content-length'])).toBe(coded.body.length)
  })

  it('sends bodies under 1 KiB as they are, still saying Vary: Accept-Encoding', async () => {
    const r = await get('/api/v1/instance/list?instanceName=inst-0', { 'accept-encoding': 'gzip, br' })
    expect(r.body.length).toBeLessThan(1024)
    expect(r.headers['content-encoding']).toBeUndefined()
    expect(r.headers.vary).toBe('Accept-Encoding')
    expect(JSON.parse(r.body.toString()).instances[0].instanceName).toBe('inst-0')
  })
})
