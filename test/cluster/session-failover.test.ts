/**
 * The real makeWASocket (Baileys 7.0.0-rc.9) driven by the real supervisor, its session in the
 * KV bucket of a real nats-server, against a loopback WhatsApp that pairs devices and lets a login
 * in only with the paired noise key and number (fake-whatsapp.ts). Node A pairs; node B, on its
 * own NATS connection and store, logs in with the session node A saved. Each node's timers are
 * manual, so retries happen only when a test says so; Baileys keeps its real timers.
 */
import { randomBytes } from 'node:crypto'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { initAuthCreds, makeWASocket, type ConnectionState } from '@whiskeysockets/baileys'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { baileysLogger } from '../../src/adapters/baileys/logger.js'
import { baileysSocketFactory } from '../../src/adapters/baileys/socket-factory.js'
import { AesGcmBox } from '../../src/adapters/crypto/secret-box.js'
import { KvSessionStore, SessionLostError } from '../../src/adapters/nats/session-store.js'
import { WhatsAppSupervisor } from '../../src/sources/whatsapp/supervisor.js'
import { NATS_INSTALL, startNatsServer, type NatsServer } from '../helpers/nats.js'
import { until } from '../helpers/wait.js'
import { ManualTime, RecordingWriter, ref, restored, silentLog } from '../whatsapp/helpers.js'
import { FakeWhatsApp } from './fake-whatsapp.js'

const JID = '15551234567:12@s.whatsapp.net'
const LID = '123456789012345:12@lid'
const ADDRESS = '15551234567:12'
/** What Baileys uploads when the server holds no pre-key for the device (INITIAL_PREKEY_COUNT). */
const INITIAL_PRE_KEYS = 812

const box = new AesGcmBox(randomBytes(32))
let nats: NatsServer
let fake: FakeWhatsApp
let bucket: string
let bucketSeq = 0
const nodes: Node[] = []

interface Node {
  nc: NatsConnection
  store: KvSessionStore
  wa: WhatsAppSupervisor
  writer: RecordingWriter
  time: ManualTime
  lost: number[]
}

beforeAll(async () => {
  nats = await startNatsServer().catch((err: Error) => {
    throw new Error(`${err.message} (cluster tests need Debian's nats-server: ${NATS_INSTALL})`)
  })
})

afterAll(async () => {
  await nats?.dispose()
})

beforeEach(async () => {
  bucket = `sh_sessions_wa${++bucketSeq}`
  fake = await FakeWhatsApp.start()
})

afterEach(async () => {
  for (const n of nodes.splice(0)) {
    await n.wa.shutdown().catch(() => undefined)
    await n.store.close().catch(() => undefined)
    await n.nc.close().catch(() => undefined)
  }
  await fake.close()
})

/** A worker node: its own NATS connection, KV session store, Baileys factory and supervisor. */
async function startNode(): Promise<Node> {
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 })
  const lost: number[] = []
  const store = new KvSessionStore(nc, box, { bucket, logger: baileysLogger(), onLost: (id) => lost.push(id) })
  await store.start()
  const time = new ManualTime()
  const writer = new RecordingWriter(time)
  const factory = baileysSocketFactory({ sessions: store, log: silentLog, logger: baileysLogger(), connectTimeoutMs: 20_000, waWebSocketUrl: fake.url, now: () => time.now() })
  const wa = new WhatsAppSupervisor({
    writer,
    sessions: store,
    factory,
    version: { refresh: async () => undefined },
    log: silentLog,
    clock: time,
    timers: time,
    random: () => 0.5,
    options: { baileysConnectTimeoutMs: 20_000, watchdogMs: 60_000 },
  })
  const n = { nc, store, wa, writer, time, lost }
  nodes.push(n)
  return n
}

function status(n: Node) {
  try {
    return n.writer.status(1)
  } catch {
    return null
  }
}

async function untilConnected(n: Node, what: string): Promise<void> {
  await until(() => status(n)?.state === 'connected', { what, ms: 15_000, detail: () => ({ status: status(n), logins: fake.logins }) })
}

/** Node A shows a QR, the phone scans it, the 515 restart logs in: a paired, connected session saved through A. */
async function pairOn(a: Node): Promise<void> {
  const result = await a.wa.connect(ref(1), { timeoutMs: 15_000 })
  if (result.status !== 'qr') throw new Error(`expected a QR, got ${JSON.stringify(result)}`)
  fake.scan(result.qr, { jid: JID, lid: LID })
  await until(() => fake.devices.has(ADDRESS) && a.wa.machineState(1)?.dueAt != null, {
    what: 'the pairing to finish with the 515 restart',
    ms: 15_000,
    detail: () => a.wa.machineState(1),
  })
  await a.time.advance(250)
  await untilConnected(a, 'node A to log in after pairing')
  await until(() => fake.devices.get(ADDRESS)!.preKeys.size === INITIAL_PRE_KEYS, 'node A to upload its pre-keys')
  await a.store.flush(1)
}

describe('a Baileys session in the KV bucket, across nodes', () => {
  it('a session paired through node A logs in on node B after node A stops', async () => {
    const a = await startNode()
    await pairOn(a)
    expect(a.store.info(1)).toEqual({ paired: true, autoStart: true, me: { jid: '15551234567@s.whatsapp.net' }, platform: 'android' })
    const uploaded = fake.devices.get(ADDRESS)!.preKeys
    // Node A goes away: its sockets stop and its connection to the engine closes.
    await a.wa.shutdown()
    await a.store.close()
    await a.nc.close()

    const b = await startNode()
    expect(b.store.restorable()).toEqual([1])
    expect(b.store.info(1)).toEqual({ paired: true, autoStart: true, me: { jid: '15551234567@s.whatsapp.net' }, platform: 'android' })
    b.wa.restore([restored(1, 'connected')])
    await untilConnected(b, 'node B to log in with the saved session')
    expect(status(b)).toMatchObject({ state: 'connected', numberJid: '15551234567@s.whatsapp.net' })
    expect(fake.logins).toEqual([
      { jid: JID, accepted: true },
      { jid: JID, accepted: true },
    ])
    // The server already held every pre-key node A uploaded, so node B uploaded none …
    expect(fake.devices.get(ADDRESS)!.preKeys.size).toBe(INITIAL_PRE_KEYS)
    // … and node B reads the same key pairs from the bucket (the ones peers encrypt to).
    const ids = [...uploaded.keys()].slice(0, 40)
    const preKeys = await b.store.auth(1).state.keys.get('pre-key', ids.map(String))
    expect(ids.map((id) => Buffer.from(preKeys[String(id)]!.public))).toEqual(ids.map((id) => uploaded.get(id)))
    expect(b.store.lost(1)).toBe(false)
  })

  it('node A, still running when node B takes over, is replaced by WhatsApp (440) and refused every session write', async () => {
    const a = await startNode()
    await pairOn(a)
    const handleA = a.store.auth(1)

    const b = await startNode()
    await b.wa.reconnect(ref(1))
    await untilConnected(b, 'node B to log in')
    await until(() => status(a)?.reason?.code === 440, { what: 'WhatsApp to replace node A’s socket', ms: 15_000, detail: () => status(a) })
    expect(fake.openLogins(ADDRESS)).toBe(1)
    await until(() => a.store.lost(1), 'node A to learn that node B took the session over')
    expect(a.lost).toEqual([1])

    await expect(handleA.saveCreds()).rejects.toThrow(SessionLostError)
    await expect(handleA.state.keys.set({ 'pre-key': { '1': null } })).rejects.toThrow(SessionLostError)
    // Node A's retry after the 440 cannot open a socket with the lost session: WhatsApp sees no login beyond A's and B's.
    await a.time.advance(10_000)
    await until(() => status(a)?.reason?.message?.includes('was taken over by another node') === true, {
      what: 'node A’s retry to fail on the lost session',
      detail: () => status(a),
    })
    expect(fake.logins).toHaveLength(2)
    expect(fake.openLogins(ADDRESS)).toBe(1)
    expect(status(b)?.state).toBe('connected')
    expect(b.store.lost(1)).toBe(false)
  })
})

describe('the loopback WhatsApp', () => {
  it('refuses a login that presents the paired number with another noise key (401)', async () => {
    const a = await startNode()
    await pairOn(a)
    const creds = { ...initAuthCreds(), me: { id: JID, name: 'Ana' }, platform: 'android' }
    const sock = makeWASocket({
      auth: { creds, keys: { get: async () => ({}), set: async () => undefined } },
      logger: baileysLogger(),
      waWebSocketUrl: fake.url,
      markOnlineOnConnect: false,
    })
    const close = await new Promise<ConnectionState['lastDisconnect']>((resolve) =>
      sock.ev.on('connection.update', (u) => {
        if (u.connection === 'close') resolve(u.lastDisconnect)
      }),
    )
    expect((close?.error as { output?: { statusCode?: number } })?.output?.statusCode).toBe(401)
    expect(fake.logins.at(-1)).toEqual({ jid: JID, accepted: false, refused: 'the noise key is not the paired one' })
  })
})
