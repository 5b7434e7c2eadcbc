/**
 * HTTP methods as uptime checkers, curl and browsers use them: HEAD wherever GET is served, OPTIONS,
 * `Allow` on every 405, and a trailing slash on API routes.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildDashboard } from '../../scripts/build-dashboard.mjs'
import { createInstances, startTestHub, tempDir, type TestHub } from '../helpers/hub.js'
import { exchange, responses } from './raw.js'

let h: TestHub
beforeAll(async () => {
  const dashboardDir = join(tempDir(), 'dashboard')
  await buildDashboard(dashboardDir)
  h = await startTestHub({}, { dashboardDir })
  await createInstances(h, ['sales', 'support'])
}, 60_000)
afterAll(() => h.stop())

/** HEAD then GET of `path` pipelined on one connection, as raw bytes, with the token. */
async function headThenGet(path: string, token: string | null = h.token) {
  const auth = token === null ? '' : `token: ${token}\r\n`
  const raw = await exchange(h.port, `HEAD ${path} HTTP/1.1\r\nHost: hub\r\n${auth}\r\nGET ${path} HTTP/1.1\r\nHost: hub\r\n${auth}Connection: close\r\n\r\n`)
  expect(raw.ended).toBe('closed')
  const [head, get] = responses(raw.text, ['HEAD', 'GET'])
  return { head: head!, get: get! }
}

const without = (headers: Record<string, string>, ...names: string[]) => Object.fromEntries(Object.entries(headers).filter(([k]) => !['date', ...names].includes(k)))

describe('HEAD', () => {
  it.each(['/healthz', '/api/instance/list', '/api/v1/instance/list?instanceName=sales', '/api/instance/getSettings/sales', '/api/admin/accounts', '/', '/app.js'])(
    'answers HEAD %s with the GET headers and its Content-Length, and sends no body',
    async (path) => {
      const token = path.startsWith('/api/admin') ? 'admin-token-for-tests-000000' : h.token
      const { head, get } = await headThenGet(path, token)
      expect(get.status).toBe(200)
      expect(head.status).toBe(200)
      expect(head.body).toBe('')
      expect(Number(head.headers['content-length'])).toBe(Buffer.byteLength(get.body, 'latin1'))
      // The rate-limit window moves by one request between the two.
      expect(without(head.headers, 'x-ratelimit-remaining')).toEqual(without(get.headers, 'x-ratelimit-remaining', 'connection'))
    },
  )

  it('answers HEAD with the error GET would give, without its body', async () => {
    const { head, get } = await headThenGet('/api/instance/getSettings/nobody')
    expect(get.status).toBe(404)
    expect(JSON.parse(get.body)).toEqual({ success: false, error: { message: 'Instance not found' } })
    expect(head.status).toBe(404)
    expect(head.body).toBe('')
    expect(Number(head.headers['content-length'])).toBe(get.body.length)
    const missing = await headThenGet('/api/instance/list', null)
    expect(missing.head.status).toBe(401)
    expect(missing.head.body).toBe('')
  })

  it('answers HEAD on the event stream with its headers and ends it at once', async () => {
    const raw = await exchange(h.port, `HEAD /api/instance/stream HTTP/1.1\r\nHost: hub\r\ntoken: ${h.token}\r\nConnection: close\r\n\r\n`)
    expect(raw.ended).toBe('closed')
    const [head] = responses(raw.text, ['HEAD'])
    expect(head!.status).toBe(200)
    expect(head!.headers['content-type']).toBe('text/event-stream')
    expect(head!.headers['cache-control']).toBe('no-cache')
    expect(head!.body).toBe('')
  })
})

describe('405 and OPTIONS', () => {
  it.each([
    ['POST', '/api/instance/list', 'GET, HEAD, OPTIONS'],
    ['PUT', '/api/v1/instance/list', 'GET, HEAD, OPTIONS'],
    ['GET', '/api/instance/new', 'POST, OPTIONS'],
    ['PATCH', '/api/instance/delete/sales', 'DELETE, OPTIONS'],
    ['GET', '/api/admin/accounts/7', 'DELETE, OPTIONS'],
    ['DELETE', '/api/admin/accounts', 'POST, GET, HEAD, OPTIONS'],
    ['GET', '/api/instance/settings/sales/', 'POST, OPTIONS'],
    ['DELETE', '/healthz', 'GET, HEAD, OPTIONS'],
    ['POST', '/', 'GET, HEAD, OPTIONS'],
    ['POST', '/api/instance/stream', 'GET, HEAD, OPTIONS'],
  ])('answers %s %s with 405, the envelope and Allow: %s', async (method, path, allow) => {
    const r = await h.req(method, path)
    expect(r.status).toBe(405)
    expect(r.headers.get('allow')).toBe(allow)
    expect(r.headers.get('content-type')).toBe('application/json')
    expect(r.json).toEqual({ success: false, error: { message: 'Method not allowed' } })
  })

  it('answers HEAD on a path without GET with 405 and no body', async () => {
    const raw = await exchange(h.port, `HEAD /api/instance/new HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n`)
    const [head] = responses(raw.text, ['HEAD'])
    expect(head!.status).toBe(405)
    expect(head!.headers.allow).toBe('POST, OPTIONS')
    expect(head!.body).toBe('')
  })

  it('answers a plain OPTIONS (no CORS configured) with 204 and Allow, without a token', async () => {
    const r = await h.req('OPTIONS', '/api/instance/connect/sales', { token: null })
    expect(r.status).toBe(204)
    expect(r.text).toBe('')
    expect(r.headers.get('allow')).toBe('GET, HEAD, OPTIONS')
    expect(r.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('trailing slash', () => {
  it('serves the lists with a trailing slash exactly as without one', async () => {
    for (const path of ['/api/instance/list', '/api/v1/instance/list']) {
      const plain = await h.req('GET', `${path}?instanceName=sales`)
      const slash = await h.req('GET', `${path}/?instanceName=sales`)
      expect(slash.status).toBe(200)
      expect(slash.text).toBe(plain.text)
      expect(slash.headers.get('etag')).toBe(plain.headers.get('etag'))
    }
  })

  it('takes a trailing slash on routes with parameters and bodies', async () => {
    const created = await h.req('POST', '/api/instance/new/', { body: { name: 'slashed' } })
    expect(created.status).toBe(201)
    expect(created.json.instance.name).toBe('slashed')
    const set = await h.req('POST', '/api/instance/settings/slashed/', { body: { keepOnlineStatus: true } })
    expect(set.json.settings.keepOnlineStatus).toBe(true)
    const read = await h.req('GET', '/api/instance/getSettings/slashed/')
    expect(read.json.settings.keepOnlineStatus).toBe(true)
    expect((await h.req('DELETE', '/api/instance/delete/slashed/')).json).toEqual({ success: true, message: 'Instance deleted', instance: { status: 'deleted' } })
  })

  it('still answers 404 for two slashes and for unknown paths', async () => {
    expect((await h.req('GET', '/api/instance/list//')).status).toBe(404)
    expect((await h.req('GET', '/api/instance/lists/')).json).toEqual({ success: false, error: { message: 'Not found' } })
  })
})
