/**
 * The per-instance proxy (operations contract): the instance's real makeWASocket goes through the
 * proxy configured for it (a proxy written in the test, on 127.0.0.1, sees the tunnel to the
 * loopback stand-in for WhatsApp), its fetches get an undici dispatcher for the same proxy, a
 * change applies from the next socket, and an unreachable proxy shows as connecting with reason
 * `proxyUnreachable`, never as "QR expired" or "bad session".
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { proxyRoute } from '../../src/adapters/baileys/proxy.js'
import { socketConfig } from '../../src/adapters/baileys/socket-factory.js'
import { builtInVersion } from '../../src/adapters/baileys/version.js'
import type { OpenedDb } from '../../src/adapters/sqlite/db.js'
import { SqliteSessionStore } from '../../src/adapters/sqlite/session-store.js'
import { createWhatsApp } from '../../src/app/whatsapp.js'
import { defaultConfig, type ProxyConfig } from '../../src/core/integrations.js'
import type { InstanceStatus } from '../../src/core/status.js'
import type { WhatsAppSupervisor } from '../../src/sources/whatsapp/supervisor.js'
import { createInstances, startTestHub, type TestHub } from '../helpers/hub.js'
import { untilValue } from '../helpers/wait.js'
import { pairDevice, startFakeWa, type FakeWa } from './fake-wa.js'
import { dbWithInstances, ManualTime, RecordingWriter, ref, silentLog } from './helpers.js'
import { httpConnectProxy, socks5Proxy, type TestProxy } from './proxies.js'

const proxy = (p: Partial<ProxyConfig>): ProxyConfig => ({ ...defaultConfig().proxy, enabled: true, host: '127.0.0.1', ...p })

let fake: FakeWa
let proxies: TestProxy[]
let closers: (() => Promise<void>)[]

beforeEach(async () => {
  fake = await startFakeWa({ onReady: (c) => setTimeout(() => c.send(pairDevice(2)), 10) })
  proxies = []
  closers = []
})

afterEach(async () => {
  for (const c of closers.reverse()) await c()
  for (const p of proxies) await p.close()
  await fake.close()
})

async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const { port } = s.address() as AddressInfo
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

describe('through the hub’s HTTP API (real makeWASocket, loopback WhatsApp)', () => {
  let h: TestHub
  beforeEach(async () => {
    h = await startTestHub(
      { HUB_WHATSAPP: 'baileys', HUB_CONNECT_TIMEOUT_MS: '1500' },
      { whatsapp: { baileys: { waWebSocketUrl: fake.url }, versions: builtInVersion } },
    )
    closers.push(() => h.stop())
    await createInstances(h, ['sales'])
  })

  it('an HTTP proxy set with POST /api/instance/proxy carries the WhatsApp socket: the proxy sees the CONNECT to the loopback WhatsApp', async () => {
    const p = await httpConnectProxy()
    proxies.push(p)
    const set = await h.req('POST', '/api/instance/proxy/sales', {
      body: { enabled: true, protocol: 'http', host: '127.0.0.1', port: p.port, username: 'ana', password: 'p@ss word' },
    })
    expect(set.status).toBe(200)
    expect(set.json.message).toBe('Proxy configuration updated; it applies from the next connection (reconnect to use it now)')
    const r = await h.req('GET', '/api/instance/connect/sales')
    expect([r.status, r.json.status]).toEqual([200, 'qr'])
    expect(r.json.qrCode).toMatch(/^2@ref1,/)
    expect(p.seen).toEqual([{ target: `127.0.0.1:${fake.port}`, auth: `Basic ${Buffer.from('ana:p@ss word').toString('base64')}` }])
  })

  it('an unreachable proxy shows connecting with reason proxyUnreachable in words, and /connect answers 504 with it', async () => {
    const port = await closedPort()
    await h.req('POST', '/api/instance/proxy/sales', { body: { enabled: true, protocol: 'http', host: '127.0.0.1', port } })
    const r = await h.req('GET', '/api/instance/connect/sales')
    expect(r.status).toBe(504)
    expect(r.json.error.message).toBe(`Timed out waiting for a QR code: Can't reach the proxy (connect ECONNREFUSED 127.0.0.1:${port})`)
    const item = (await h.req('GET', '/api/instance/list?instanceName=sales')).json.instances[0]
    expect(item.connection).toMatchObject({
      state: 'connecting',
      reason: { code: 408, name: 'proxyUnreachable', message: `WebSocket Error (connect ECONNREFUSED 127.0.0.1:${port})` },
      closeDetail: `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}`,
    })
    expect(item.connection.displayStatus).toMatch(new RegExp(`^Can't reach the proxy \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\), retrying in \\d+s$`))
    expect(fake.conns).toEqual([])
  })
})

describe('the instance’s socket (runner, real makeWASocket)', () => {
  let time: ManualTime
  let opened: OpenedDb
  let writer: RecordingWriter
  let wa: WhatsAppSupervisor

  beforeEach(() => {
    time = new ManualTime()
    opened = dbWithInstances(1)
    writer = new RecordingWriter(time)
    wa = createWhatsApp('baileys', {
      writer,
      db: opened.db,
      log: silentLog,
      clock: time,
      timers: time,
      random: () => 0.5,
      baileys: { waWebSocketUrl: fake.url },
    })
    closers.push(async () => {
      await wa.shutdown()
      opened.close()
    })
  })

  const status = (): InstanceStatus | null => {
    try {
      return writer.status(1)
    } catch {
      return null
    }
  }
  const until = (what: string, check: (s: InstanceStatus) => boolean) =>
    untilValue(async () => status(), (s) => s !== null && check(s), { what, ms: 5_000 })

  it('a SOCKS5 proxy with a username and password carries the socket to the loopback WhatsApp', async () => {
    const p = await socks5Proxy({ name: 'ana', password: 's3cret' })
    proxies.push(p)
    const out = await wa.connect(ref(1, false, { proxy: proxy({ protocol: 'socks5', port: String(p.port), username: 'ana', password: 's3cret' }) }), { timeoutMs: 60_000 })
    expect(out).toMatchObject({ status: 'qr', qr: expect.stringMatching(/^2@ref1,/) })
    expect(p.seen).toEqual([{ target: `127.0.0.1:${fake.port}`, auth: 'ana:s3cret' }])
  })

  it('a SOCKS proxy that refuses the port (Baileys: 500 with a SocksClientError) is proxyUnreachable, never a bad session', async () => {
    const port = await closedPort()
    const r = ref(1, false, { proxy: proxy({ protocol: 'socks5', port: String(port) }) })
    void wa.connect(r, { timeoutMs: 600_000 }).catch(() => {})
    for (let i = 1; i <= 6; i++) {
      await until(`failure ${i}`, () => wa.machineState(1)?.attempt === i)
      await time.advance(time.pendingDelays()[0]!)
    }
    await until('failure 7', () => wa.machineState(1)?.attempt === 7)
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: 500, name: 'proxyUnreachable', message: `WebSocket Error (connect ECONNREFUSED 127.0.0.1:${port})` },
    })
    expect(wa.machineState(1)?.badSessions).toBe(0)
    expect(writer.displays(1).some((d) => d.startsWith('Needs attention') || d.includes('QR expired'))).toBe(false)
  })

  it('an HTTP proxy that answers 407 (Baileys would hang) is ended at once as proxyUnreachable', async () => {
    const p = await httpConnectProxy('407 Proxy Authentication Required')
    proxies.push(p)
    void wa.connect(ref(1, false, { proxy: proxy({ protocol: 'http', port: String(p.port) }) }), { timeoutMs: 600_000 }).catch(() => {})
    const s = await until('a retry', (s) => s.retryAt !== null)
    expect(s).toMatchObject({
      state: 'connecting',
      reason: { code: 408, name: 'proxyUnreachable', message: 'WebSocket Error (Proxy refused: 407 Proxy Authentication Required)' },
      displayStatus: "Can't reach the proxy (Proxy refused: 407 Proxy Authentication Required), retrying in 1s",
    })
    expect(p.seen).toHaveLength(1)
  })

  it('an unusable proxy (port 99999) creates no socket at all and shows as proxyUnreachable', async () => {
    void wa.connect(ref(1, false, { proxy: proxy({ protocol: 'http', port: '99999' }) }), { timeoutMs: 600_000 }).catch(() => {})
    const s = await until('a retry', (s) => s.retryAt !== null)
    expect(s!.reason).toEqual({ code: null, name: 'proxyUnreachable', message: 'the proxy is enabled but unusable (protocol "http", host "127.0.0.1", port "99999")' })
    expect(fake.conns).toEqual([])
  })

  it('a proxy change applies from the next socket', async () => {
    const p = await httpConnectProxy()
    proxies.push(p)
    expect((await wa.connect(ref(1), { timeoutMs: 60_000 })).status).toBe('qr')
    wa.settingsChanged(ref(1, false, { proxy: proxy({ protocol: 'http', port: String(p.port) }) }))
    expect(p.seen).toEqual([])
    fake.conns[0]!.ws.close()
    await until('a retry', (s) => s.retryAt !== null)
    await time.advance(time.pendingDelays()[0]!)
    await until('a QR again', (s) => s.displayStatus === 'Waiting for QR scan')
    expect(p.seen).toEqual([{ target: `127.0.0.1:${fake.port}`, auth: null }])
  })
})

describe('Baileys’ fetches', () => {
  it('get the proxy as their undici dispatcher: fetchAgent (uploads) and options.dispatcher (downloads), next to the socket agent', async () => {
    const db = dbWithInstances(1)
    closers.push(async () => db.close())
    const sessions = new SqliteSessionStore(db.db)
    const opts = { sessions, log: silentLog, logger: (await import('pino')).default({ level: 'silent' }), now: () => 0 }
    const settings = () => defaultConfig().settings
    const { config, route } = socketConfig(opts, { instanceId: 1, generation: 1, options: { proxy: proxy({ protocol: 'http', port: '3128' }), settings } })
    expect(route).not.toBeNull()
    expect(config.agent).toBe(route!.agent)
    expect(config.fetchAgent).toBe(route!.dispatcher)
    expect((config.options as { dispatcher?: unknown }).dispatcher).toBe(route!.dispatcher)
    const direct = socketConfig(opts, { instanceId: 1, generation: 2, options: { proxy: null, settings } })
    expect([direct.route, direct.config.agent, direct.config.fetchAgent, direct.config.options]).toEqual([null, undefined, undefined, undefined])
  })

  it.each(['http', 'socks5'] as const)('the %s dispatcher really routes Node’s fetch through the proxy', async (protocol) => {
    const target: Server = createServer((req, res) => res.end(`hello ${req.url}`))
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
    const p = protocol === 'http' ? await httpConnectProxy() : await socks5Proxy()
    proxies.push(p)
    const route = proxyRoute(proxy({ protocol, port: String(p.port) }))!
    const { port } = target.address() as AddressInfo
    const res = await fetch(`http://127.0.0.1:${port}/media`, { dispatcher: route.dispatcher } as RequestInit)
    expect([res.status, await res.text()]).toEqual([200, 'hello /media'])
    expect(p.seen.map((s) => s.target)).toEqual([`127.0.0.1:${port}`])
    await new Promise<void>((resolve) => target.close(() => resolve()))
  })

  it('an enabled proxy without a usable host or port is refused rather than bypassed', () => {
    expect(() => proxyRoute(proxy({ host: '', port: '3128' }))).toThrow(/enabled but unusable/)
    expect(() => proxyRoute(proxy({ port: '99999' }))).toThrow(/enabled but unusable/)
    expect(proxyRoute({ ...proxy({ port: '1' }), enabled: false })).toBeNull()
  })
})
