/**
 * The real makeWASocket (Baileys 7.0.0-rc.9) against loopback servers on 127.0.0.1, driven by the
 * runner. Nothing contacts WhatsApp: every socket gets waWebSocketUrl on loopback. Baileys keeps
 * its real timers; the runner's timers are manual, so retries happen only when a test says so.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import type { OpenedDb } from '../../src/adapters/sqlite/db.js'
import { SqliteSessionStore } from '../../src/adapters/sqlite/session-store.js'
import type { InstanceStatus } from '../../src/core/status.js'
import type { WhatsAppSupervisor } from '../../src/sources/whatsapp/supervisor.js'
import type { VersionSource } from '../../src/adapters/baileys/version.js'
import { createWhatsApp } from '../../src/app/whatsapp.js'
import { dbWithInstances, ManualTime, RecordingWriter, ref, silentLog } from './helpers.js'

let time: ManualTime
let opened: OpenedDb
let writer: RecordingWriter
let wa: WhatsAppSupervisor | null
let server: Server | null
const connections = new Set<Socket>()

beforeEach(async () => {
  time = new ManualTime()
  opened = dbWithInstances(1)
  writer = new RecordingWriter(time)
  wa = null
  server = null
  // A paired session, so the runner reconnects it (as at start) instead of waiting for a QR.
  const seed = new SqliteSessionStore(opened.db)
  const auth = seed.auth(1)
  Object.assign(auth.state.creds, {
    me: { id: '15551234567:12@s.whatsapp.net', name: 'Ana' },
    account: { details: Buffer.from('d'), accountSignatureKey: Buffer.alloc(32), accountSignature: Buffer.alloc(64), deviceSignature: Buffer.alloc(64) },
    platform: 'android',
  })
  await auth.saveCreds()
})

afterEach(async () => {
  await wa?.shutdown()
  for (const c of connections) c.destroy()
  connections.clear()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  opened.close()
})

function start(url: string, connectTimeoutMs = 20_000, watchdogMs = 1_000, versions?: VersionSource): WhatsAppSupervisor {
  wa = createWhatsApp('baileys', {
    ...(versions ? { versions } : {}),
    writer,
    db: opened.db,
    log: silentLog,
    clock: time,
    timers: time,
    random: () => 0.5,
    options: { baileysConnectTimeoutMs: connectTimeoutMs, watchdogMs },
    baileys: { waWebSocketUrl: url },
  })
  return wa
}

async function listen(s: Server): Promise<number> {
  server = s
  s.on('connection', (c: Socket) => {
    connections.add(c)
    c.on('close', () => connections.delete(c))
  })
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

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms; last status: ${JSON.stringify(lastStatus())}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function lastStatus(): InstanceStatus | null {
  try {
    return writer.status(1)
  } catch {
    return null
  }
}

function reconnecting(): boolean {
  return lastStatus()?.displayStatus.startsWith('Reconnecting') ?? false
}

describe('real makeWASocket on loopback', () => {
  it('a refused port closes with 408 and the runner backs off', async () => {
    const port = await refusedPort()
    await start(`ws://127.0.0.1:${port}/ws/chat`).reconnect(ref(1))
    await until(reconnecting)
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: 408, name: 'connectionLost', message: `WebSocket Error (connect ECONNREFUSED 127.0.0.1:${port})` },
      displayStatus: 'Reconnecting (connection lost), attempt 1',
      retryAt: new Date(time.now() + 750).toISOString(),
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
    await start(`ws://127.0.0.1:${port}/ws/chat`, 20_000, 1_000, versions).reconnect(ref(1))
    await until(reconnecting)
    expect(reads).toBe(1)
    await time.advance(750)
    await until(() => writer.status(1).displayStatus === 'Reconnecting (connection lost), attempt 2')
    expect(reads).toBe(2)
  })

  it('a server that accepts then closes gives 428 Connection Terminated', async () => {
    const http = createServer()
    const wss = new WebSocketServer({ server: http })
    wss.on('connection', (ws) => ws.close())
    const port = await listen(http)
    await start(`ws://127.0.0.1:${port}/ws/chat`).reconnect(ref(1))
    await until(reconnecting)
    expect(writer.status(1)).toMatchObject({
      reason: { code: 428, name: 'connectionClosed', message: 'Connection Terminated' },
      displayStatus: 'Reconnecting (connection closed), attempt 1',
    })
    wss.close()
  })

  it('a silent server with connectTimeoutMs 300 gives 408 Timed Out', async () => {
    const http = createServer()
    const wss = new WebSocketServer({ server: http })
    const port = await listen(http)
    await start(`ws://127.0.0.1:${port}/ws/chat`, 300).reconnect(ref(1))
    await until(reconnecting)
    expect(writer.status(1)).toMatchObject({
      reason: { code: 408, name: 'timedOut', message: 'Timed Out' },
      displayStatus: 'Reconnecting (timed out), attempt 1',
    })
    wss.close()
  })

  it('an upgrade refused with HTTP 401 hangs Baileys; the watchdog frees it and the runner backs off', async () => {
    const http = createServer()
    let upgrades = 0
    http.on('upgrade', (_req, socket: Socket) => {
      upgrades++
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
    })
    const port = await listen(http)
    const runner = start(`ws://127.0.0.1:${port}/ws/chat`)
    await runner.reconnect(ref(1))
    await until(() => upgrades === 1)
    await new Promise((resolve) => setTimeout(resolve, 300))
    // Baileys reports nothing at all: still connecting, no close.
    expect(runner.machineState(1)).toMatchObject({ phase: 'CONNECTING', live: true, gen: 1 })
    expect(writer.status(1)).toMatchObject({ state: 'connecting', displayStatus: 'Connecting…', reason: null })

    await time.advance(1_000)
    expect(writer.status(1)).toMatchObject({
      state: 'connecting',
      reason: { code: null, name: 'connectWatchdog', message: 'No answer from WhatsApp within 1 s' },
      displayStatus: 'Reconnecting (no answer), attempt 1',
    })
    await time.advance(750)
    await until(() => upgrades === 2)
    expect(runner.machineState(1)).toMatchObject({ phase: 'CONNECTING', gen: 2 })
    await time.advance(1_000)
    expect(writer.status(1).displayStatus).toBe('Reconnecting (no answer), attempt 2')
  })

  it('logout through a real socket ends loggedout and wipes the session', async () => {
    const http = createServer()
    const wss = new WebSocketServer({ server: http })
    let accepted = 0
    wss.on('connection', () => accepted++)
    const port = await listen(http)
    const runner = start(`ws://127.0.0.1:${port}/ws/chat`)
    await runner.reconnect(ref(1))
    await until(() => accepted === 1)
    await runner.logout(ref(1))
    expect(writer.status(1)).toMatchObject({ state: 'loggedout', displayStatus: 'Logged out', numberJid: null })
    expect(new SqliteSessionStore(opened.db).info(1)).toBeNull()
    wss.close()
  })
})

