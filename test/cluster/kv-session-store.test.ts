/**
 * KvSessionStore against a real nats-server (JetStream, file store): the SessionPort/AuthSource
 * contract the SQLite store keeps (test/whatsapp/sqlite-session-store.test.ts), sealed values, the watch
 * cache other nodes answer info/restorable from, and the takeover rules (compare-and-set creds).
 * Every "node" is a store on its own NATS connection.
 */
import { randomBytes } from 'node:crypto'
import { Kvm, type KV } from '@nats-io/kv'
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node'
import { BufferJSON, proto, type AuthenticationCreds } from '@whiskeysockets/baileys'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { AesGcmBox } from '../../src/adapters/crypto/secret-box.js'
import { signalKey, token, untoken } from '../../src/adapters/nats/session-keys.js'
import { KvSessionStore, SessionLostError, type KvSessionStoreOptions } from '../../src/adapters/nats/session-store.js'
import type { SecretBox } from '../../src/ports/secrets.js'
import type { Log } from '../../src/ports/socket.js'
import { NATS_INSTALL, natsServerBinary, startNatsServer, type NatsServer } from '../helpers/nats.js'
import { TcpProxy } from '../helpers/tcp-proxy.js'
import { until } from '../helpers/wait.js'

const ACCOUNT = {
  details: Buffer.from('details'),
  accountSignatureKey: Buffer.alloc(32, 1),
  accountSignature: Buffer.alloc(64, 2),
  deviceSignature: Buffer.alloc(64, 3),
}
const ME = { id: '15551234567:12@s.whatsapp.net', name: 'Ana', lid: '99887766554433:12@lid' }
const PRE_KEY = { public: Buffer.alloc(32, 7), private: Buffer.alloc(32, 8) }
const APP_STATE_KEY = { keyData: Buffer.alloc(32, 9), fingerprint: { rawId: 5, currentIndex: 1, deviceIndexes: [0, 1] }, timestamp: 1_700_000_000 }
const SESSION_ID = '15551234567:12@s.whatsapp.net'

const box = new AesGcmBox(randomBytes(32))
const CLIENT = { maxReconnectAttempts: -1, reconnectTimeWait: 100, reconnectJitter: 0, pingInterval: 500, maxPingOut: 2, timeout: 2_000, ignoreClusterUpdates: true }

let nats: NatsServer
let bucket: string
let bucketSeq = 0
const opened: { nc: NatsConnection; store?: KvSessionStore }[] = []

beforeAll(async () => {
  nats = await startNatsServer()
})

afterAll(async () => {
  await nats?.dispose()
})

beforeEach(() => {
  bucket = `sh_sessions_t${++bucketSeq}`
})

afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.store?.close().catch(() => undefined)
    await o.nc.close().catch(() => undefined)
  }
})

/** A node: its own connection and store on the test's bucket. */
async function node(
  opts: KvSessionStoreOptions & { servers?: string; box?: SecretBox; client?: Partial<ConnectionOptions> } = {},
): Promise<KvSessionStore> {
  const nc = await connect({ ...CLIENT, ...opts.client, servers: opts.servers ?? nats.url })
  const store = new KvSessionStore(nc, opts.box ?? box, { bucket, ...opts })
  opened.push({ nc, store })
  await store.start()
  return store
}

/** The bucket as any NATS client sees it (no SecretBox). */
async function rawBucket(): Promise<KV> {
  const nc = await connect({ servers: nats.url })
  opened.push({ nc })
  return new Kvm(nc).open(bucket)
}

async function rawEntries(): Promise<Map<string, string>> {
  const kv = await rawBucket()
  const out = new Map<string, string>()
  for await (const k of await kv.keys()) out.set(k, (await kv.get(k))!.string())
  return out
}

async function pair(store: KvSessionStore, id: number): Promise<void> {
  await store.prepare(id)
  const auth = store.auth(id)
  Object.assign(auth.state.creds, { me: ME, account: ACCOUNT, platform: 'android' })
  await auth.saveCreds()
}

function copyOf(creds: AuthenticationCreds): AuthenticationCreds {
  return JSON.parse(JSON.stringify(creds, BufferJSON.replacer), BufferJSON.reviver)
}

/** Resolves at the connection's next reconnect. */
async function reconnected(nc: NatsConnection): Promise<void> {
  for await (const s of nc.status()) if (s.type === 'reconnect') return
}

function recordingLog(): Log & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = []
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg })
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

describe('the nats-server test helper', () => {
  it('names the exact apt-get command when nats-server is not installed', () => {
    expect(() => natsServerBinary(['/nonexistent-statushub'])).toThrow(`install it with: ${NATS_INSTALL}`)
    expect(NATS_INSTALL).toBe('apt-get install -y nats-server')
  })

  it('keeps the port and the store across kill -9 and restart', async () => {
    const store = await node()
    await pair(store, 1)
    const port = nats.port
    await nats.kill9()
    expect(nats.running).toBe(false)
    await nats.restart()
    expect(nats.port).toBe(port)
    const after = await node()
    expect(after.restorable()).toEqual([1])
  })
})

describe('KvSessionStore', () => {
  it('survives a restart: creds and keys load equal on another node, and restore lists the instance', async () => {
    const a = await node()
    await pair(a, 1)
    const auth = a.auth(1)
    await auth.state.keys.set({
      'pre-key': { '1': PRE_KEY },
      'app-state-sync-key': { AAAAAQ: APP_STATE_KEY as unknown as proto.Message.IAppStateSyncKeyData },
      session: { [SESSION_ID]: Buffer.from('session-bytes') },
    })
    const saved = copyOf(auth.state.creds)

    const b = await node()
    expect(b.restorable()).toEqual([1])
    expect(b.info(1)).toEqual({ paired: true, autoStart: true, me: { jid: '15551234567@s.whatsapp.net', name: 'Ana' }, platform: 'android' })
    await b.prepare(1)
    const loaded = b.auth(1)
    expect(loaded.state.creds).toEqual(saved)
    expect(Buffer.isBuffer(loaded.state.creds.noiseKey.private)).toBe(true)
    expect(await loaded.state.keys.get('pre-key', ['1', '2'])).toEqual({ '1': PRE_KEY })
    expect(await loaded.state.keys.get('session', [SESSION_ID])).toEqual({ [SESSION_ID]: Buffer.from('session-bytes') })
    const appState = await loaded.state.keys.get('app-state-sync-key', ['AAAAAQ'])
    expect(appState.AAAAAQ).toBeInstanceOf(proto.Message.AppStateSyncKeyData)
    expect(Buffer.from(appState.AAAAAQ.keyData as Uint8Array)).toEqual(APP_STATE_KEY.keyData)
  })

  it('gives fresh creds and no info for an instance without a session, and writes nothing until saved', async () => {
    const store = await node()
    await store.prepare(2)
    const auth = store.auth(2)
    expect(auth.state.creds.me).toBeUndefined()
    expect(auth.state.creds.registered).toBe(false)
    expect(store.info(2)).toBeNull()
    expect(await rawEntries()).toEqual(new Map())
  })

  it('refuses auth before prepare, naming the call to make', async () => {
    const store = await node()
    expect(() => store.auth(3)).toThrow('The session of instance 3 is not loaded on this node: await prepare(3) before creating a socket')
  })

  it('shares one auth state between calls and prepares until the session is wiped', async () => {
    const store = await node()
    await store.prepare(1)
    const before = store.auth(1)
    await store.prepare(1)
    expect(store.auth(1)).toBe(before)
    await store.wipe(1)
    expect(() => store.auth(1)).toThrow('not loaded on this node')
    await store.prepare(1)
    expect(store.auth(1)).not.toBe(before)
  })

  it('does not count a pairing-code attempt (creds.me without account) as paired', async () => {
    const store = await node()
    await store.prepare(1)
    const auth = store.auth(1)
    auth.state.creds.me = { id: '15550001111@s.whatsapp.net', name: '~' }
    await auth.saveCreds()
    expect(store.info(1)).toEqual({ paired: false, autoStart: true, me: null, platform: null })
    expect(store.restorable()).toEqual([])
  })

  it('deletes a key set to null without leaving a delete marker, alongside the other writes of the call', async () => {
    const store = await node()
    await store.prepare(1)
    const keys = store.auth(1).state.keys
    await keys.set({ 'pre-key': { '1': PRE_KEY, '2': PRE_KEY } })
    await keys.set({ 'pre-key': { '1': null, '3': PRE_KEY } })
    const other = await node()
    await store.flush(1)
    store.release(1)
    await other.prepare(1)
    expect(Object.keys(await other.auth(1).state.keys.get('pre-key', ['1', '2', '3']))).toEqual(['2', '3'])
    expect(await (await rawBucket()).get(signalKey(1, 'pre-key', '1'))).toBeNull()
  })

  it('writes creds in call order; the last write holds the latest creds, on every node', async () => {
    const store = await node()
    const watcher = await node()
    await pair(store, 1)
    const auth = store.auth(1)
    const writes: Promise<void>[] = []
    for (const name of ['A', 'B', 'C']) {
      auth.state.creds.me = { ...ME, name }
      writes.push(auth.saveCreds())
    }
    await Promise.all(writes)
    await store.flush(1)
    expect(store.info(1)?.me?.name).toBe('C')
    await until(() => watcher.info(1)?.me?.name === 'C', { what: 'the other node to see the last write', detail: () => watcher.info(1) })
  })

  it('drops creds and key writes still queued when the session is wiped', async () => {
    const store = await node()
    await pair(store, 1)
    const auth = store.auth(1)
    const late = auth.saveCreds()
    await store.wipe(1)
    await late
    await auth.state.keys.set({ 'pre-key': { '9': PRE_KEY } })
    expect(store.info(1)).toBeNull()
    await store.prepare(1)
    expect(await store.auth(1).state.keys.get('pre-key', ['9'])).toEqual({})
    expect(await rawEntries()).toEqual(new Map())
  })

  it('wipe deletes creds and keys of that instance only, and every node sees the creds go', async () => {
    const store = await node()
    const watcher = await node()
    await pair(store, 1)
    await pair(store, 2)
    await store.auth(1).state.keys.set({ 'pre-key': { '1': PRE_KEY }, session: { [SESSION_ID]: Buffer.from('s') } })
    await store.auth(2).state.keys.set({ 'pre-key': { '1': PRE_KEY } })
    await until(() => watcher.restorable().length === 2, 'the other node to see both sessions')
    await store.wipe(1)
    expect(store.info(1)).toBeNull()
    await until(() => watcher.info(1) === null, 'the other node to see the wipe')
    expect(watcher.restorable()).toEqual([2])
    expect([...(await rawEntries()).keys()].sort()).toEqual(['c.2', signalKey(2, 'pre-key', '1')])
    const again = await node()
    await again.prepare(1)
    expect(await again.auth(1).state.keys.get('pre-key', ['1'])).toEqual({})
    await again.prepare(2)
    expect(await again.auth(2).state.keys.get('pre-key', ['1'])).toEqual({ '1': PRE_KEY })
  })

  it('wipes a session this node does not hold (an instance removed on another node)', async () => {
    const owner = await node()
    await pair(owner, 1)
    await owner.auth(1).state.keys.set({ 'pre-key': { '1': PRE_KEY } })
    await owner.flush(1)
    owner.release(1)
    const other = await node()
    await other.wipe(1)
    expect(other.info(1)).toBeNull()
    expect(await rawEntries()).toEqual(new Map())
  })

  it('keeps autoStart across creds writes and leaves stopped sessions out of restore, on every node', async () => {
    const store = await node()
    const watcher = await node()
    await pair(store, 1)
    store.setAutoStart(1, false)
    expect(store.restorable()).toEqual([])
    await store.auth(1).saveCreds()
    expect(store.info(1)?.autoStart).toBe(false)
    expect(store.restorable()).toEqual([])
    await until(() => watcher.info(1)?.autoStart === false, 'the other node to see autoStart false')
    expect(watcher.restorable()).toEqual([])
    const fresh = await node()
    expect(fresh.info(1)).toEqual({ paired: true, autoStart: false, me: { jid: '15551234567@s.whatsapp.net', name: 'Ana' }, platform: 'android' })
  })

  it('sets autoStart of a session no node holds, and ignores an instance without a session', async () => {
    const owner = await node()
    await pair(owner, 1)
    await owner.flush(1)
    owner.release(1)
    const other = await node()
    other.setAutoStart(1, false)
    other.setAutoStart(5, false)
    expect(other.info(1)?.autoStart).toBe(false)
    await other.flush(1)
    await other.flush(5)
    const fresh = await node()
    expect(fresh.info(1)?.autoStart).toBe(false)
    expect(fresh.info(5)).toBeNull()
    expect([...(await rawEntries()).keys()]).toEqual(['c.1'])
  })

  it('reads and writes many keys in bounded batches', async () => {
    const store = await node({ concurrency: 16 })
    await store.prepare(1)
    const many = Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [String(i), PRE_KEY]))
    await store.auth(1).state.keys.set({ 'pre-key': many })
    await store.flush(1)
    store.release(1)
    const other = await node()
    await other.prepare(1)
    const ids = Object.keys(many)
    expect(Object.keys(await other.auth(1).state.keys.get('pre-key', ids))).toHaveLength(1_000)
  })

  it('stores JID and LID ids as base64url tokens: no @ or : reaches a key name', async () => {
    const store = await node()
    await store.prepare(1)
    const ids = [SESSION_ID, '99887766554433:12@lid', '15551234567@s.whatsapp.net', 'ÄÖ +/= *>', '']
    await store.auth(1).state.keys.set({ session: Object.fromEntries(ids.map((id, i) => [id, Buffer.from([i])])) })
    const names = [...(await rawEntries()).keys()].sort()
    expect(names).toEqual(ids.map((id) => `k.1.${token('session')}.${token(id)}`).sort())
    for (const name of names) expect(name).toMatch(/^k\.1\.[-\w]+\.[-\w=]+$/)
    expect(names.map((n) => untoken(n.split('.')[3]!)).sort()).toEqual([...ids].sort())
    const got = await store.auth(1).state.keys.get('session', ids)
    expect(ids.map((id) => got[id])).toEqual(ids.map((_, i) => Buffer.from([i])))
  })

  it('seals every value: the bucket holds no creds, key or number in clear', async () => {
    const store = await node()
    await pair(store, 1)
    const creds = store.auth(1).state.creds
    await store.auth(1).state.keys.set({ 'pre-key': { '1': PRE_KEY }, session: { [SESSION_ID]: Buffer.from('session-bytes') } })
    const entries = await rawEntries()
    expect(entries.size).toBe(3)
    const secrets = [
      '15551234567',
      'Ana',
      'android',
      'noiseKey',
      'session-bytes',
      Buffer.from('session-bytes').toString('base64'),
      Buffer.from(creds.noiseKey.private).toString('base64'),
      Buffer.from(creds.signedIdentityKey.private).toString('base64'),
      creds.advSecretKey,
      PRE_KEY.private.toString('base64'),
    ]
    for (const [name, value] of entries) {
      expect(value, name).toMatch(/^enc:v1:[-\w]+$/)
      for (const s of secrets) expect(value.includes(s), `${name} contains ${s}`).toBe(false)
    }
    const opened = JSON.parse(box.open(entries.get('c.1')!), BufferJSON.reviver)
    expect(opened).toMatchObject({ v: 1, paired: true, autoStart: true })
    expect(opened.creds).toEqual(copyOf(creds))
  })

  it('a node with another HUB_SECRET_KEY cannot read the sessions, and says so', async () => {
    const store = await node()
    await pair(store, 1)
    const log = recordingLog()
    const stranger = await node({ box: new AesGcmBox(randomBytes(32)), log })
    expect(stranger.info(1)).toBeNull()
    expect(stranger.restorable()).toEqual([])
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'error', msg: 'a saved session cannot be read (is HUB_SECRET_KEY the same on every node?)' }),
    )
    await expect(stranger.prepare(1)).rejects.toThrow('The saved session of instance 1 cannot be opened (is HUB_SECRET_KEY the same on every node?)')
  })

  it('starts on an empty bucket and on a bucket with only signal keys', async () => {
    const store = await node()
    await store.prepare(1)
    await store.auth(1).state.keys.set({ 'pre-key': { '1': PRE_KEY } })
    const other = await node()
    expect(other.restorable()).toEqual([])
  })

  describe('discardUnpaired', () => {
    it('wipes creds whose me is only the number a pairing-code request typed, live or saved', async () => {
      const store = await node()
      await store.prepare(1)
      const auth = store.auth(1)
      Object.assign(auth.state.creds, { me: { id: '15550001111@s.whatsapp.net', name: '~' }, pairingCode: 'KC4LVSL1' })
      await auth.saveCreds()
      await store.flush(1)
      store.release(1)
      const other = await node()
      expect(await other.discardUnpaired(1)).toBe(true)
      expect(other.info(1)).toBeNull()
      await other.prepare(1)
      expect(other.auth(1).state.creds.me).toBeUndefined()

      await other.prepare(2)
      const live = other.auth(2)
      live.state.creds.me = { id: '15550002222@s.whatsapp.net', name: '~' }
      expect(await other.discardUnpaired(2)).toBe(true)
      await other.prepare(2)
      expect(other.auth(2).state.creds).not.toBe(live.state.creds)
      expect(other.auth(2).state.creds.me).toBeUndefined()
    })

    it('keeps a paired session and fresh creds', async () => {
      const store = await node()
      await pair(store, 1)
      await store.prepare(2)
      const fresh = store.auth(2).state.creds
      expect([await store.discardUnpaired(1), await store.discardUnpaired(2)]).toEqual([false, false])
      expect(store.info(1)).toMatchObject({ paired: true, me: { jid: '15551234567@s.whatsapp.net' } })
      expect(store.auth(2).state.creds).toBe(fresh)
    })
  })

  describe('takeover', () => {
    it('after node B takes the session over, node A is refused every write and the entry stays B’s', async () => {
      const lostOn: number[] = []
      const a = await node({ onLost: (id) => lostOn.push(id) })
      await pair(a, 1)
      const handleA = a.auth(1)
      const b = await node()
      await b.prepare(1)
      const creds = copyOf(b.auth(1).state.creds)

      // A paused before it could see the takeover (as a zombie does): its next write is refused.
      handleA.state.creds.me = { ...ME, name: 'zombie' }
      await expect(handleA.saveCreds()).rejects.toThrow(SessionLostError)
      expect(a.lost(1)).toBe(true)
      expect(lostOn).toEqual([1])
      await expect(handleA.saveCreds()).rejects.toThrow(
        /^The session of instance 1 was taken over by another node \(.+\); this node no longer writes it$/,
      )
      await expect(handleA.state.keys.set({ 'pre-key': { '1': PRE_KEY } })).rejects.toThrow(SessionLostError)
      await expect(a.wipe(1)).rejects.toThrow(SessionLostError)
      expect(() => a.auth(1)).toThrow(SessionLostError)
      await expect(a.prepare(1)).rejects.toThrow(SessionLostError)
      a.setAutoStart(1, false)
      await a.flush(1)
      expect(lostOn).toEqual([1])

      const raw = await rawEntries()
      expect([...raw.keys()]).toEqual(['c.1'])
      const saved = JSON.parse(box.open(raw.get('c.1')!), BufferJSON.reviver)
      expect(saved).toMatchObject({ paired: true, autoStart: true })
      expect(saved.creds).toEqual(creds)
      expect(saved.creds.me.name).toBe('Ana')
      // B keeps writing.
      b.auth(1).state.creds.me = { ...ME, name: 'B' }
      await b.auth(1).saveCreds()
      await b.auth(1).state.keys.set({ 'pre-key': { '1': PRE_KEY } })
      expect(b.lost(1)).toBe(false)
      await until(() => a.info(1)?.me?.name === 'B', 'node A to show the new owner’s session')
    })

    it('a node learns the takeover from the watch before its next write', async () => {
      const lostOn: number[] = []
      const a = await node({ onLost: (id) => lostOn.push(id) })
      await pair(a, 1)
      const b = await node()
      await b.prepare(1)
      await until(() => a.lost(1), 'node A to see node B’s takeover')
      expect(lostOn).toEqual([1])
      expect(b.lost(1)).toBe(false)
    })

    it('its own writes never count as a takeover, however the watch and the answers interleave', async () => {
      const a = await node()
      await pair(a, 1)
      const auth = a.auth(1)
      for (let i = 0; i < 50; i++) {
        auth.state.creds.accountSyncCounter = i
        void auth.saveCreds()
        if (i % 7 === 0) a.setAutoStart(1, i % 2 === 0)
      }
      await a.flush(1)
      await auth.saveCreds()
      expect(a.lost(1)).toBe(false)
      const b = await node()
      await until(() => b.info(1)?.autoStart === a.info(1)?.autoStart, 'node B to see the last autoStart')
    })

    it('release lets a node take the session back with prepare; the other node is then refused', async () => {
      const a = await node()
      await pair(a, 1)
      const b = await node()
      await b.prepare(1)
      const handleB = b.auth(1)
      await until(() => a.lost(1), 'node A to see the takeover')
      a.release(1)
      expect(a.lost(1)).toBe(false)
      await a.prepare(1)
      expect(a.auth(1).state.creds.me?.name).toBe('Ana')
      await expect(handleB.saveCreds()).rejects.toThrow(SessionLostError)
      expect(b.lost(1)).toBe(true)
    })

    it('a wipe by another node counts as a takeover', async () => {
      const a = await node()
      await pair(a, 1)
      const handleA = a.auth(1)
      await a.flush(1)
      const b = await node()
      await b.wipe(1)
      await expect(handleA.saveCreds()).rejects.toThrow(SessionLostError)
      expect(await rawEntries()).toEqual(new Map())
    })
  })

  describe('engine outages', () => {
    it('a node cut from the engine catches up on the sessions written meanwhile once it reconnects', async () => {
      const proxy = new TcpProxy(nats.port)
      await proxy.start()
      try {
        const a = await node()
        await pair(a, 1)
        const b = await node({ servers: proxy.url })
        expect(b.restorable()).toEqual([1])
        await proxy.cut('partition')
        await pair(a, 2)
        await a.wipe(1)
        a.setAutoStart(2, false)
        await a.flush(2)
        await pair(a, 3)
        // The server pushed those entries into the partitioned socket; once the client gives that
        // socket up, they are gone, and a watch that only resumes by itself misses them.
        await until(() => proxy.dropped === 1, { what: 'node B to give the partitioned socket up', ms: 10_000 })
        await proxy.restore()
        await until(() => b.info(1) === null && b.info(2)?.autoStart === false && b.info(3)?.paired === true, {
          what: 'node B to catch up after the partition',
          ms: 10_000,
          detail: () => [b.info(1), b.info(2), b.info(3)],
        })
        expect(b.restorable()).toEqual([3])
      } finally {
        await proxy.close()
      }
    })

    it('a creds write whose answer timed out but landed is adopted: the next write goes on from it', async () => {
      const proxy = new TcpProxy(nats.port)
      await proxy.start()
      try {
        // Pings far apart: the partition heals before the client gives its socket up, so the held write lands late.
        const a = await node({ servers: proxy.url, timeoutMs: 300, client: { pingInterval: 60_000 } })
        await pair(a, 1)
        const auth = a.auth(1)
        await proxy.cut('partition')
        auth.state.creds.me = { ...ME, name: 'late' }
        await expect(auth.saveCreds()).rejects.toThrow()
        await proxy.restore()
        const kv = await rawBucket()
        await until(async () => JSON.parse(box.open((await kv.get('c.1'))!.string()), BufferJSON.reviver).creds.me.name === 'late', 'the held write to land')
        auth.state.creds.me = { ...ME, name: 'next' }
        await auth.saveCreds()
        expect(a.lost(1)).toBe(false)
        expect(JSON.parse(box.open((await kv.get('c.1'))!.string()), BufferJSON.reviver).creds.me.name).toBe('next')
      } finally {
        await proxy.close()
      }
    })

    it('a creds write whose answer timed out and never landed is written again by the next one', async () => {
      const proxy = new TcpProxy(nats.port)
      await proxy.start()
      try {
        const a = await node({ servers: proxy.url, timeoutMs: 300 })
        const nc = opened.at(-1)!.nc
        await pair(a, 1)
        const auth = a.auth(1)
        const back = reconnected(nc)
        await proxy.cut('partition')
        auth.state.creds.me = { ...ME, name: 'lost in the partition' }
        await expect(auth.saveCreds()).rejects.toThrow()
        // The client gives the partitioned socket up (pings): the bytes held for it never reach the server.
        await until(() => proxy.dropped === 1, { what: 'the client to give the partitioned socket up', ms: 10_000 })
        await proxy.restore()
        await back
        const kv = await rawBucket()
        expect(JSON.parse(box.open((await kv.get('c.1'))!.string()), BufferJSON.reviver).creds.me.name).toBe('Ana')
        auth.state.creds.me = { ...ME, name: 'next' }
        await auth.saveCreds()
        expect(a.lost(1)).toBe(false)
        expect(JSON.parse(box.open((await kv.get('c.1'))!.string()), BufferJSON.reviver).creds.me.name).toBe('next')
      } finally {
        await proxy.close()
      }
    })

    it('the watch follows after nats-server is killed and restarted, and saved sessions survive', async () => {
      const a = await node()
      const b = await node()
      await pair(a, 1)
      await until(() => b.restorable().length === 1, 'node B to see the session')
      const reconnects = opened.map(({ nc }) => reconnected(nc))
      await nats.kill9()
      await nats.restart()
      await Promise.all(reconnects)
      await pair(a, 2)
      await until(() => b.restorable().length === 2, { what: 'node B to see the write made after the restart', ms: 10_000, detail: () => b.restorable() })
      expect(a.lost(1)).toBe(false)
      expect(b.restorable()).toEqual([1, 2])
    })
  })
})

