/**
 * CORS as the operations contract words it (HUB_CORS_ORIGINS): the headers of every API answer to
 * an allowed origin, preflights, and the Origin check of WebSocket upgrades; then a real Chromium
 * on a page of another origin doing what a browser app does.
 */
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ConfigError, loadConfig } from '../../src/app/config.js'
import { createInstances, startTestHub, type TestHub } from '../helpers/hub.js'

const EXPOSE = 'ETag, X-Hub-Epoch, X-Hub-Seq, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After'
const CHROMIUM = '/usr/bin/chromium'

/** A page server of its own origin (an app that embeds the hub's data). */
async function pageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>'))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

let h: TestHub
let plain: TestHub
let app: Awaited<ReturnType<typeof pageServer>>
let stranger: Awaited<ReturnType<typeof pageServer>>
let ALLOWED: string
const OTHER_ALLOWED = 'https://ops.example.com'
const FOREIGN = 'https://evil.example.net'

beforeAll(async () => {
  app = await pageServer()
  stranger = await pageServer()
  ALLOWED = app.origin
  h = await startTestHub({ HUB_CORS_ORIGINS: `${ALLOWED}, ${OTHER_ALLOWED}` })
  plain = await startTestHub()
  await createInstances(h, ['sales', 'support'])
  await createInstances(plain, ['sales'])
})
afterAll(async () => {
  await h.stop()
  await plain.stop()
  app.server.close()
  stranger.server.close()
})

/** Opens a WebSocket with these upgrade headers: 'open', or the HTTP status that refused it. */
function upgrade(hub: TestHub, path: string, headers: Record<string, string>): Promise<{ result: 'open' } | { result: 'refused'; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${hub.port}${path}`, { headers: { token: hub.token, ...headers } })
    ws.once('open', () => {
      ws.close()
      resolve({ result: 'open' })
    })
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d))
      res.on('end', () => resolve({ result: 'refused', status: res.statusCode ?? 0, body }))
    })
    ws.once('error', (err) => reject(err))
  })
}

describe('HUB_CORS_ORIGINS', () => {
  it('takes a comma-separated list of origins, trimmed and deduplicated, empty by default', () => {
    expect(loadConfig({}).corsOrigins).toEqual([])
    expect(loadConfig({ HUB_CORS_ORIGINS: ' https://a.example.com, http://localhost:5173,,https://a.example.com ' }).corsOrigins).toEqual([
      'https://a.example.com',
      'http://localhost:5173',
    ])
  })

  it.each([
    ['*', 'it must start with http:// or https://'],
    ['a.example.com', 'it must start with http:// or https://'],
    ['https://a.example.com/', 'no trailing slash'],
    ['https://a.example.com/app', 'no path'],
    ['https://A.example.com', 'in lower case'],
    ['https://a.example.com:443', 'no default port, e.g. https://a.example.com'],
  ])('stops the hub on %j, naming the variable', (value, words) => {
    expect(() => loadConfig({ HUB_CORS_ORIGINS: value })).toThrow(ConfigError)
    expect(() => loadConfig({ HUB_CORS_ORIGINS: value })).toThrow(`HUB_CORS_ORIGINS: "${value}" is not an origin`)
    expect(() => loadConfig({ HUB_CORS_ORIGINS: value })).toThrow(words)
  })
})

describe('CORS headers', () => {
  it('answers an allowed origin with Allow-Origin, Vary: Origin and the exposed headers, beside the rate limits', async () => {
    const r = await h.req('GET', '/api/instance/list', { headers: { origin: ALLOWED } })
    expect(r.status).toBe(200)
    expect(r.headers.get('access-control-allow-origin')).toBe(ALLOWED)
    expect(r.headers.get('vary')).toBe('Origin, Accept-Encoding')
    expect(r.headers.get('access-control-expose-headers')).toBe(EXPOSE)
    expect(r.headers.get('access-control-allow-credentials')).toBeNull()
    expect(r.headers.get('x-ratelimit-limit')).toBe('100000')
    expect(r.headers.get('etag')).toMatch(/^"[\w-]{22}(-br|-gzip)?"$/)
  })

  it.each([
    ['a 401', 'GET', '/api/instance/list', null, 401],
    ['a 404', 'GET', '/api/instance/getSettings/nobody', undefined, 404],
    ['a 400', 'POST', '/api/instance/new', undefined, 400],
    ['a 405', 'PUT', '/api/instance/list', undefined, 405],
    ['a 304', 'GET', '/api/instance/list?instanceName=sales', undefined, 304],
    ['a second allowed origin', 'GET', '/api/v1/instance/list', undefined, 200],
  ] as const)('carries them on %s too', async (_what, method, path, token, status) => {
    const origin = _what === 'a second allowed origin' ? OTHER_ALLOWED : ALLOWED
    const headers: Record<string, string> = { origin }
    if (status === 304) headers['if-none-match'] = (await h.req('GET', path)).headers.get('etag')!
    const r = await h.req(method, path, { token, headers, raw: method === 'POST' ? '{"name":' : undefined })
    expect(r.status).toBe(status)
    expect(r.headers.get('access-control-allow-origin')).toBe(origin)
    expect(r.headers.get('access-control-expose-headers')).toBe(EXPOSE)
  })

  it('gives an origin off the list, or none, only Vary: Origin', async () => {
    for (const headers of [{ origin: FOREIGN }, { origin: `${ALLOWED}/` }, { origin: 'null' }, {}] as Record<string, string>[]) {
      const r = await h.req('GET', '/api/instance/getSettings/sales', { headers })
      expect(r.status).toBe(200)
      expect(r.headers.get('access-control-allow-origin')).toBeNull()
      expect(r.headers.get('access-control-expose-headers')).toBeNull()
      expect(r.headers.get('vary')).toBe('Origin')
    }
  })

  it('adds nothing when HUB_CORS_ORIGINS is empty (the default)', async () => {
    const r = await plain.req('GET', '/api/instance/list', { headers: { origin: ALLOWED } })
    expect(r.status).toBe(200)
    expect(r.headers.get('access-control-allow-origin')).toBeNull()
    expect(r.headers.get('vary')).toBe('Accept-Encoding')
  })

  it('carries them on the event stream', async () => {
    const ac = new AbortController()
    const r = await fetch(`${h.base}/api/instance/stream`, { headers: { token: h.token, origin: ALLOWED }, signal: ac.signal })
    expect(r.status).toBe(200)
    expect(r.headers.get('access-control-allow-origin')).toBe(ALLOWED)
    expect(r.headers.get('content-type')).toBe('text/event-stream')
    ac.abort()
  })
})

describe('preflight', () => {
  it.each([
    ['/api/instance/list', 'GET', 'GET, HEAD, OPTIONS'],
    ['/api/instance/list/', 'GET', 'GET, HEAD, OPTIONS'],
    ['/api/instance/new', 'POST', 'POST, OPTIONS'],
    ['/api/instance/delete/sales', 'DELETE', 'DELETE, OPTIONS'],
    ['/api/admin/accounts', 'POST', 'POST, GET, HEAD, OPTIONS'],
  ])('answers OPTIONS %s from an allowed origin with 204 and the route’s methods', async (path, method, methods) => {
    const r = await h.req('OPTIONS', path, {
      token: null,
      headers: { origin: ALLOWED, 'access-control-request-method': method, 'access-control-request-headers': 'token, content-type' },
    })
    expect(r.status).toBe(204)
    expect(r.text).toBe('')
    expect(r.headers.get('access-control-allow-origin')).toBe(ALLOWED)
    expect(r.headers.get('access-control-allow-methods')).toBe(methods)
    expect(r.headers.get('access-control-allow-headers')).toBe('token, authorization, content-type, if-none-match, last-event-id')
    expect(r.headers.get('access-control-max-age')).toBe('600')
    expect(r.headers.get('vary')).toBe('Origin')
    expect(r.headers.get('allow')).toBe(methods)
  })

  it('answers a preflight from an origin off the list without any Access-Control header', async () => {
    const r = await h.req('OPTIONS', '/api/instance/list', { token: null, headers: { origin: FOREIGN, 'access-control-request-method': 'GET' } })
    expect(r.status).toBe(204)
    expect(r.headers.get('allow')).toBe('GET, HEAD, OPTIONS')
    expect(r.headers.get('access-control-allow-origin')).toBeNull()
    expect(r.headers.get('access-control-allow-methods')).toBeNull()
    expect(r.headers.get('vary')).toBe('Origin')
  })
})

describe('WebSocket upgrades and Origin', () => {
  it.each(['none', 'allowed', 'own'] as const)('lets Origin %s (a server or curl; an allowed origin; the hub’s own origin) open /ws and /ws/:instance', async (kind) => {
    const headers = (hub: TestHub): Record<string, string> =>
      kind === 'none' ? {} : { origin: kind === 'allowed' ? ALLOWED : `http://127.0.0.1:${hub.port}` }
    expect(await upgrade(h, '/ws', headers(h))).toEqual({ result: 'open' })
    if (kind !== 'allowed') expect(await upgrade(plain, '/ws', headers(plain))).toEqual({ result: 'open' })
    await h.req('POST', '/api/events/websocket/sales', { body: { enabled: true, events: ['instance.state'] } })
    expect(await upgrade(h, '/ws/sales', headers(h))).toEqual({ result: 'open' })
  })

  it('refuses a browser Origin off the list with 403 and the envelope, on both sockets', async () => {
    await h.req('POST', '/api/events/websocket/sales', { body: { enabled: true, events: ['instance.state'] } })
    for (const [hub, path] of [[h, '/ws'], [h, '/ws/sales'], [plain, '/ws']] as const) {
      for (const origin of [FOREIGN, `http://127.0.0.1:${hub.port + 1}`, 'null']) {
        expect(await upgrade(hub, path, { origin })).toEqual({ result: 'refused', status: 403, body: '{"success":false,"error":{"message":"Origin not allowed"}}' })
      }
    }
    // An allowed origin of one hub is foreign to a hub without a list.
    expect(await upgrade(plain, '/ws', { origin: ALLOWED })).toMatchObject({ result: 'refused', status: 403 })
  })
})

describe('a browser on another origin', () => {
  let browser: Browser
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}. Install it (apt-get install -y chromium): these tests never skip.`)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] })
  }, 30_000)
  afterAll(() => browser?.close())

  /** What a page at `origin` gets from the hub: fetch (with a token header, so a preflight), EventSource, WebSocket. */
  async function fromPage(origin: string) {
    const page = await browser.newPage()
    await page.goto(`${origin}/`)
    const hub = `127.0.0.1:${h.port}`
    const result = await page.evaluate(
      async ({ hub, token }) => {
        const list = await fetch(`http://${hub}/api/instance/list?instanceName=sales`, { headers: { token } })
          .then(async (r) => ({ status: r.status, etag: r.headers.get('etag'), seq: r.headers.get('x-hub-seq'), remaining: r.headers.get('x-ratelimit-remaining'), name: (await r.json()).instances[0].name }))
          .catch(() => 'blocked')
        const sse = await new Promise<string>((resolve) => {
          const es = new EventSource(`http://${hub}/api/instance/stream?token=${token}`)
          es.addEventListener('snapshot', (e) => {
            es.close()
            resolve(JSON.parse((e as MessageEvent).data).type)
          })
          es.onerror = () => {
            es.close()
            resolve('blocked')
          }
        })
        const ws = await new Promise<string>((resolve) => {
          // globalThis: the test module's `WebSocket` import must not leak into the page's code.
          const s = new (globalThis as any).WebSocket(`ws://${hub}/ws?token=${token}`)
          s.onopen = () => s.send(JSON.stringify({ type: 'subscribe', id: '1', instances: '*' }))
          s.onmessage = (e: { data: string }) => {
            s.close()
            resolve(JSON.parse(e.data).type)
          }
          s.onerror = () => resolve('blocked')
        })
        return { list, sse, ws }
      },
      { hub, token: h.token },
    )
    await page.close()
    return result
  }

  it('reads the list with its exposed headers, the event stream and the WebSocket from an allowed origin', async () => {
    const seq = String(h.hub.accountNamed('default')!.seq)
    expect(await fromPage(ALLOWED)).toEqual({
      list: { status: 200, etag: expect.stringMatching(/^"[\w-]{22}(-br|-gzip)?"$/), seq, remaining: expect.stringMatching(/^\d+$/), name: 'sales' },
      sse: 'snapshot',
      ws: 'snapshot',
    })
  })

  it('gets nothing from an origin off the list', async () => {
    expect(await fromPage(stranger.origin)).toEqual({ list: 'blocked', sse: 'blocked', ws: 'blocked' })
  })
})
