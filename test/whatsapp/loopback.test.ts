/**
 * The real makeWASocket (Baileys 7.0.0-rc.9) against loopback servers on 127.0.0.1, driven by the
 * runner: the failures docs/baileys-rc9.md recorded (an unreachable host, a TLS failure, an upgrade
 * that never answers, a refused upgrade), before and after pairing, and a loopback WhatsApp that
 * completes the handshake. Nothing contacts WhatsApp: every socket gets waWebSocketUrl on loopback.
 * Baileys keeps its real timers; the runner's timers are manual, so retries happen only when a
 * test says so.
 */
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import type { OpenedDb } from '../../src/adapters/sqlite/db.js'
import { SqliteSessionStore } from '../../src/adapters/sqlite/session-store.js'
import { HubError } from '../../src/core/errors.js'
import type { InstanceStatus } from '../../src/core/status.js'
import type { WhatsAppSupervisor } from '../../src/sources/whatsapp/supervisor.js'
import type { VersionSource } from '../../src/adapters/baileys/version.js'
import { createWhatsApp } from '../../src/app/whatsapp.js'
import { until as untilHolds } from '../helpers/wait.js'
import { offline, pairDevice, startFakeWa, success, type FakeWa } from './fake-wa.js'
import { dbWithInstances, ManualTime, RecordingWriter, ref, silentLog, T0 } from './helpers.js'

const TLS = { key: readFileSync(new URL('./fixtures/self.key', import.meta.url)), cert: readFileSync(new URL('./fixtures/self.crt', import.meta.url)) }

let time: ManualTime
let opened: OpenedDb
let writer: RecordingWriter
let wa: WhatsAppSupervisor | null
let servers: Server[]
let fake: FakeWa | null
const connections = new Set<Socket>()

beforeEach(() => {
  time = new ManualTime()
  opened = dbWithInstances(1)
  writer = new RecordingWriter(time)
  wa = null
  servers = []
  fake = null
})

afterEach(async () => {
  await wa?.shutdown()
  for (const c of connections) c.destroy()
  connections.clear()
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
  await fake?.close()
  opened.close()
})

/** A paired session, so the runner reconnects it (as at start) instead of waiting for a QR. */
async function seedPaired(): Promise<void> {
  const auth = new SqliteSessionStore(opened.db).auth(1)
  Object.assign(auth.state.creds, {
    me: { id: '15551234567:12@s.whatsapp.net', name: 'Ana' },
    account: { details: Buffer.from('d'), accountSignatureKey: Buffer.alloc(32), accountSignature: Buffer.alloc(64), deviceSignature: Buffer.alloc(64) },
    platform: 'android',
  })
  await auth.saveCreds()
}

function start(url: string, connectTimeoutMs = 20_000, versions?: VersionSource, silentAfterMs?: number): WhatsAppSupervisor {
  wa = createWhatsApp('baileys', {
    ...(versions ? { versions } : {}),
    writer,
    db: opened.db,
    log: silentLog,
    clock: time,
    timers: time,
    random: () => 0.5,
    options: { baileysConnectTimeoutMs: connectTimeoutMs, ...(silentAfterMs === undefined ? {} : { silentAfterMs }) },
    baileys: { waWebSocketUrl: url },
  })
  return wa
}

async function listen(s: Server): Promise<number> {
  servers.push(s)
  s.on('connection', (c: Socket) => {
    connections.add(c)
    c.on('close', () => connections.delete(c))
  })
  s.on('secureConnection', (c: Socket) => connections.add(c))
  s.on('tlsClientError', () => {})
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  return (s.address() as AddressInfo).port
}

async function refusedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const { port } = s.address() as AddressInfo
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

/** Every wait of this file: up to 20 s, failing with the instance's last status. */
const until = (check: () => boolean) => untilHolds(check, { ms: 20_000, what: 'the instance status', detail: lastStatus })

function lastStatus(): InstanceStatus | null {
  try {
    return writer.status(1)
  } catch {
    return null
  }
}

const retrying = () => lastStatus()?.retryAt != null
const named = (name: string) => () => lastStatus()?.reason?.name === name

/** A TLS server with a self-signed certificate, as a TLS-intercepting proxy presents. */
async function selfSignedServer(): Promise<string> {
  const s = createTlsServer(TLS)
  s.on('upgrade', (_req, socket: Socket) => socket.destroy())
  return `wss://127.0.0.1:${await listen(s)}/ws/chat`
}

/** An HTTP server that accepts the upgrade request and never answers it. */
async function silentUpgradeServer(): Promise<string> {
  const s = createServer()
  s.on('upgrade', () => {})
  return `ws://127.0.0.1:${await listen(s)}/ws/chat`
}

describe('real makeWASocket on loopback: failures before pairing', () => {
  it('an unreachable host retries as "Can\'t reach WhatsApp" and /connect answers 504 with the reason, never "QR expired"', async () => {
    const port = await refusedPort()
    const runner = start(`ws://127.0.0.1:${port}/ws/chat`)
    const outcome = runner.connect(ref(1), { timeoutMs: 500 }).catch((err: unknown) => err)
    await until(retrying)
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: 408, name: 'unreachable', message: `WebSocket Error (connect ECONNREFUSED 127.0.0.1:${port})` },
      displayStatus: `Can't reach WhatsApp (connect ECONNREFUSED 127.0.0.1:${port}), retrying in 1s`,
      closeDetail: `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}`,
      retryAt: new Date(T0 + 750).toISOString(),
    })
    await time.advance(500)
    expect(await outcome).toEqual(new HubError('timeout', `Timed out waiting for a QR code: Can't reach WhatsApp (connect ECONNREFUSED 127.0.0.1:${port})`))
    expect(writer.displays(1)).not.toContain('Disconnected (QR expired)')
  })

  it('a TLS failure (self-signed certificate, reported by Baileys as 500) retries as tlsError', async () => {
    const runner = start(await selfSignedServer())
    void runner.connect(ref(1), { timeoutMs: 60_000 }).catch(() => {})
    await until(retrying)
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: 500, name: 'tlsError', message: 'WebSocket Error (self-signed certificate)' },
      displayStatus: 'Secure connection to WhatsApp failed (self-signed certificate), retrying in 1s',
      closeDetail: 'DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate',
    })
  })

  it('an upgrade that never answers fails after connectTimeoutMs as unreachable', async () => {
    const runner = start(await silentUpgradeServer(), 300)
    void runner.connect(ref(1), { timeoutMs: 60_000 }).catch(() => {})
    await until(retrying)
    expect(writer.status(1)).toMatchObject({
      reason: { code: 408, name: 'unreachable', message: 'WebSocket Error (Opening handshake has timed out)' },
      displayStatus: "Can't reach WhatsApp (Opening handshake has timed out), retrying in 1s",
    })
  })

  it('a loopback WhatsApp that completes the handshake shows a real QR, and its frames are counted', async () => {
    fake = await startFakeWa({ onReady: (c) => setTimeout(() => c.send(pairDevice(2)), 10) })
    const runner = start(fake.url)
    const out = await runner.connect(ref(1), { timeoutMs: 60_000 })
    expect(out).toMatchObject({ status: 'qr', qr: expect.stringMatching(/^2@ref1,/) })
    expect(writer.status(1)).toMatchObject({ state: 'connecting', displayStatus: 'Waiting for QR scan', event: 'qr_ready' })
    expect(fake.conns[0]!.login).toBe(false)
    expect(runner.liveness(1)).toEqual({ lastFrameAt: T0 })
  })
})

describe('real makeWASocket on loopback: failures after pairing', () => {
  beforeEach(seedPaired)

  it('a refused port closes with 408 and the runner backs off as unreachable', async () => {
    const port = await refusedPort()
    await start(`ws://127.0.0.1:${port}/ws/chat`).reconnect(ref(1))
    await until(retrying)
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: 408, name: 'unreachable', message: `WebSocket Error (connect ECONNREFUSED 127.0.0.1:${port})` },
      displayStatus: `Can't reach WhatsApp (connect ECONNREFUSED 127.0.0.1:${port}), retrying in 1s`,
      retryAt: new Date(time.now() + 750).toISOString(),
    })
  })

  it('a TLS failure never counts towards "needs attention (bad session)"', async () => {
    const runner = start(await selfSignedServer())
    await runner.reconnect(ref(1))
    for (let i = 1; i <= 6; i++) {
      await until(() => runner.machineState(1)?.phase === 'RECONNECT_WAIT' && runner.machineState(1)?.attempt === i)
      await time.advance(time.pendingDelays()[0]!)
    }
    await until(() => runner.machineState(1)?.attempt === 7)
    expect(runner.machineState(1)).toMatchObject({ phase: 'RECONNECT_WAIT', badSessions: 0 })
    expect(writer.status(1)).toMatchObject({ state: 'connecting', reason: { code: 500, name: 'tlsError' } })
    expect(writer.displays(1).some((d) => d.startsWith('Needs attention'))).toBe(false)
  })

  it('a wrong Sec-WebSocket-Accept (500) is a handshake error, not a bad session', async () => {
    const s = createServer()
    s.on('upgrade', (_req, socket: Socket) => socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bogus=\r\n\r\n'))
    await start(`ws://127.0.0.1:${await listen(s)}/ws/chat`).reconnect(ref(1))
    await until(retrying)
    expect(writer.status(1)).toMatchObject({
      reason: { code: 500, name: 'tlsError', message: 'WebSocket Error (Invalid Sec-WebSocket-Accept header)' },
    })
  })

  it('an upgrade that never answers fails after connectTimeoutMs as unreachable', async () => {
    await start(await silentUpgradeServer(), 300).reconnect(ref(1))
    await until(retrying)
    expect(writer.status(1).reason).toEqual({ code: 408, name: 'unreachable', message: 'WebSocket Error (Opening handshake has timed out)' })
  })

  it('an upgrade refused with HTTP 403 (Baileys never closes on it) is ended at once from unexpected-response', async () => {
    const s = createServer()
    let upgrades = 0
    s.on('upgrade', (_req, socket: Socket) => {
      upgrades++
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
    })
    const runner = start(`ws://127.0.0.1:${await listen(s)}/ws/chat`)
    await runner.reconnect(ref(1))
    await until(retrying)
    expect(upgrades).toBe(1)
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: 408, name: 'unreachable', message: 'WebSocket Error (Unexpected server response: 403 Forbidden)' },
      displayStatus: "Can't reach WhatsApp (Unexpected server response: 403 Forbidden), retrying in 1s",
    })
  })

  it('each new socket takes the WhatsApp Web version from the version source', async () => {
    const port = await refusedPort()
    let reads = 0
    const versions: VersionSource = {
      current: () => {
        reads++
        return [2, 3000, 1030000000]
      },
      refresh: async () => undefined,
    }
    await start(`ws://127.0.0.1:${port}/ws/chat`, 20_000, versions).reconnect(ref(1))
    await until(retrying)
    expect(reads).toBe(1)
    await time.advance(750)
    await until(() => writer.status(1).retryAt === new Date(time.now() + 1_500).toISOString())
    expect(reads).toBe(2)
  })

  it('a server that accepts then closes gives 428 Connection Terminated', async () => {
    const http = createServer()
    const wss = new WebSocketServer({ server: http })
    wss.on('connection', (ws) => ws.close())
    await start(`ws://127.0.0.1:${await listen(http)}/ws/chat`).reconnect(ref(1))
    await until(retrying)
    expect(writer.status(1)).toMatchObject({
      reason: { code: 428, name: 'connectionClosed', message: 'Connection Terminated' },
      displayStatus: 'Reconnecting (connection closed), attempt 1',
    })
    wss.close()
  })

  it('a silent server after the upgrade with connectTimeoutMs 300 gives 408 Timed Out', async () => {
    const http = createServer()
    const wss = new WebSocketServer({ server: http })
    await start(`ws://127.0.0.1:${await listen(http)}/ws/chat`, 300).reconnect(ref(1))
    await until(retrying)
    expect(writer.status(1)).toMatchObject({
      reason: { code: 408, name: 'timedOut', message: 'Timed Out' },
      displayStatus: 'Reconnecting (timed out), attempt 1',
    })
    wss.close()
  })

  it('a loopback WhatsApp accepts the login: connected, synced at the offline backlog; a server gone silent is restarted as "silent"', async () => {
    fake = await startFakeWa({
      onReady: (c) =>
        setTimeout(() => {
          c.send(success())
          setTimeout(() => c.send(offline()), 50)
        }, 10),
    })
    const runner = start(fake.url, 20_000, undefined, 60_000)
    await runner.reconnect(ref(1))
    await until(() => lastStatus()?.synced === true)
    expect(fake.conns[0]!.login).toBe(true)
    expect(writer.status(1)).toMatchObject({ state: 'connected', displayStatus: 'Online', numberJid: '15551234567@s.whatsapp.net', synced: true })
    // The server's last frame before it falls silent is a notification the client acks: once the
    // ack is back, every answer sent before it has reached the client (stamped T0), so none can
    // land while the clock moves and push the silence back.
    const conn = fake.conns[0]!
    conn.send({ tag: 'notification', attrs: { id: 'last-before-silence', type: 'barrier', from: 's.whatsapp.net', t: '0' } })
    conn.silent = true
    await until(() => conn.received.some((n) => n.tag === 'ack' && n.attrs.id === 'last-before-silence'))
    expect(runner.liveness(1)).toEqual({ lastFrameAt: T0 })
    await time.advance(60_000)
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: null, name: 'silent', message: 'Nothing received from WhatsApp for 60 s' },
      event: 'keepalive_timeout',
    })
  })

  it('logout through a real open socket sends remove-companion-device, ends loggedout and wipes the session', async () => {
    fake = await startFakeWa({ onReady: (c) => setTimeout(() => c.send(success()), 10) })
    const runner = start(fake.url)
    await runner.reconnect(ref(1))
    await until(() => lastStatus()?.state === 'connected')
    // Baileys writes the request and closes with its own 401: sent, not confirmed by WhatsApp.
    expect(await runner.logout(ref(1))).toEqual({ unlinkSent: true })
    expect(writer.status(1)).toMatchObject({
      state: 'loggedout',
      displayStatus: 'Logged out',
      numberJid: null,
      reason: { code: 401, name: 'loggedOut', message: 'Intentional Logout' },
    })
    await until(() => fake!.conns[0]!.received.some((n) => Array.isArray(n.content) && n.content.some((c) => (c as { tag?: string }).tag === 'remove-companion-device')))
    expect(new SqliteSessionStore(opened.db).info(1)).toBeNull()
  })
})
