import { BufferJSON, proto } from '@whiskeysockets/baileys'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDb, type OpenedDb } from '../../src/adapters/sqlite/db.js'
import { SqliteSessionStore } from '../../src/adapters/sqlite/session-store.js'
import { waCreds } from '../../src/adapters/sqlite/schema.js'
import { dbWithInstances } from './helpers.js'

const ACCOUNT = {
  details: Buffer.from('details'),
  accountSignatureKey: Buffer.alloc(32, 1),
  accountSignature: Buffer.alloc(64, 2),
  deviceSignature: Buffer.alloc(64, 3),
}
const ME = { id: '15551234567:12@s.whatsapp.net', name: 'Ana', lid: '99887766554433:12@lid' }
const PRE_KEY = { public: Buffer.alloc(32, 7), private: Buffer.alloc(32, 8) }
const APP_STATE_KEY = { keyData: Buffer.alloc(32, 9), fingerprint: { rawId: 5, currentIndex: 1, deviceIndexes: [0, 1] }, timestamp: 1_700_000_000 }

let dir: string
let opened: OpenedDb

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'statushub-sessions-'))
  opened = dbWithInstances(2, join(dir, 'hub.db'))
})

afterEach(() => {
  opened.close()
  rmSync(dir, { recursive: true, force: true })
})

function reopen(): SqliteSessionStore {
  opened.close()
  opened = openDb(join(dir, 'hub.db'))
  return new SqliteSessionStore(opened.db)
}

async function pair(store: SqliteSessionStore, id: number): Promise<void> {
  const auth = store.auth(id)
  Object.assign(auth.state.creds, { me: ME, account: ACCOUNT, platform: 'android' })
  await auth.saveCreds()
}

describe('SqliteSessionStore', () => {
  it('survives a restart: creds and keys load equal from a new connection, and restore lists the instance', async () => {
    const store = new SqliteSessionStore(opened.db)
    await pair(store, 1)
    const auth = store.auth(1)
    await auth.state.keys.set({
      'pre-key': { '1': PRE_KEY },
      'app-state-sync-key': { AAAAAQ: APP_STATE_KEY as unknown as proto.Message.IAppStateSyncKeyData },
      session: { '15551234567.0': Buffer.from('session-bytes') },
    })
    const saved = JSON.parse(JSON.stringify(auth.state.creds, BufferJSON.replacer), BufferJSON.reviver)

    const again = reopen()
    const loaded = again.auth(1)
    expect(loaded.state.creds).toEqual(saved)
    expect(Buffer.isBuffer(loaded.state.creds.noiseKey.private)).toBe(true)
    expect(await loaded.state.keys.get('pre-key', ['1', '2'])).toEqual({ '1': PRE_KEY })
    expect(await loaded.state.keys.get('session', ['15551234567.0'])).toEqual({ '15551234567.0': Buffer.from('session-bytes') })
    const appState = await loaded.state.keys.get('app-state-sync-key', ['AAAAAQ'])
    expect(appState.AAAAAQ).toBeInstanceOf(proto.Message.AppStateSyncKeyData)
    expect(Buffer.from(appState.AAAAAQ.keyData as Uint8Array)).toEqual(APP_STATE_KEY.keyData)
    expect(again.restorable()).toEqual([1])
    expect(again.info(1)).toEqual({ paired: true, autoStart: true, me: { jid: '15551234567@s.whatsapp.net', name: 'Ana' }, platform: 'android' })
  })

  it('gives fresh creds and no info for an instance without a session, and writes nothing until saved', () => {
    const store = new SqliteSessionStore(opened.db)
    const auth = store.auth(2)
    expect(auth.state.creds.me).toBeUndefined()
    expect(auth.state.creds.registered).toBe(false)
    expect(store.info(2)).toBeNull()
    expect(opened.db.select().from(waCreds).all()).toEqual([])
  })

  it('shares one auth state between calls until the session is wiped', async () => {
    const store = new SqliteSessionStore(opened.db)
    expect(store.auth(1)).toBe(store.auth(1))
    const before = store.auth(1)
    await store.wipe(1)
    expect(store.auth(1)).not.toBe(before)
  })

  it('does not count a pairing-code attempt (creds.me without account) as paired', async () => {
    const store = new SqliteSessionStore(opened.db)
    const auth = store.auth(1)
    auth.state.creds.me = { id: '15550001111@s.whatsapp.net', name: '~' }
    await auth.saveCreds()
    expect(store.info(1)).toEqual({ paired: false, autoStart: true, me: null, platform: null })
    expect(store.restorable()).toEqual([])
  })

  it('deletes a key set to null, in the same transaction as other writes', async () => {
    const store = new SqliteSessionStore(opened.db)
    const keys = store.auth(1).state.keys
    await keys.set({ 'pre-key': { '1': PRE_KEY, '2': PRE_KEY } })
    await keys.set({ 'pre-key': { '1': null, '3': PRE_KEY } })
    expect(Object.keys(await reopen().auth(1).state.keys.get('pre-key', ['1', '2', '3']))).toEqual(['2', '3'])
  })

  it('writes creds in call order; the last write holds the latest creds', async () => {
    const store = new SqliteSessionStore(opened.db)
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
  })

  it('drops creds writes still queued when the session is wiped', async () => {
    const store = new SqliteSessionStore(opened.db)
    await pair(store, 1)
    const auth = store.auth(1)
    const late = auth.saveCreds()
    await store.wipe(1)
    await late
    await auth.state.keys.set({ 'pre-key': { '9': PRE_KEY } })
    expect(store.info(1)).toBeNull()
    expect(await store.auth(1).state.keys.get('pre-key', ['9'])).toEqual({})
  })

  it('wipe deletes creds and keys of that instance only', async () => {
    const store = new SqliteSessionStore(opened.db)
    await pair(store, 1)
    await pair(store, 2)
    await store.auth(1).state.keys.set({ 'pre-key': { '1': PRE_KEY } })
    await store.auth(2).state.keys.set({ 'pre-key': { '1': PRE_KEY } })
    await store.wipe(1)
    const again = reopen()
    expect(again.info(1)).toBeNull()
    expect(await again.auth(1).state.keys.get('pre-key', ['1'])).toEqual({})
    expect(await again.auth(2).state.keys.get('pre-key', ['1'])).toEqual({ '1': PRE_KEY })
    expect(again.restorable()).toEqual([2])
  })

  it('keeps autoStart across creds writes and leaves stopped sessions out of restore', async () => {
    const store = new SqliteSessionStore(opened.db)
    await pair(store, 1)
    store.setAutoStart(1, false)
    await store.auth(1).saveCreds()
    expect(store.info(1)?.autoStart).toBe(false)
    expect(store.restorable()).toEqual([])
  })

  it('reads and writes many keys in chunks', async () => {
    const store = new SqliteSessionStore(opened.db)
    const many = Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [String(i), PRE_KEY]))
    await store.auth(1).state.keys.set({ 'pre-key': many })
    const ids = Object.keys(many)
    expect(Object.keys(await reopen().auth(1).state.keys.get('pre-key', ids))).toHaveLength(1_000)
  })

  describe('discardUnpaired', () => {
    it('wipes creds whose me is only the number a pairing-code request typed, live or saved', async () => {
      const store = new SqliteSessionStore(opened.db)
      const auth = store.auth(1)
      Object.assign(auth.state.creds, { me: { id: '15550001111@s.whatsapp.net', name: '~' }, pairingCode: 'KC4LVSL1' })
      await auth.saveCreds()
      expect(await reopen().discardUnpaired(1)).toBe(true)
      const store2 = new SqliteSessionStore(opened.db)
      expect(store2.info(1)).toBeNull()
      expect(store2.auth(1).state.creds.me).toBeUndefined()

      const live = store2.auth(2)
      live.state.creds.me = { id: '15550002222@s.whatsapp.net', name: '~' }
      expect(await store2.discardUnpaired(2)).toBe(true)
      expect(store2.auth(2).state.creds).not.toBe(live.state.creds)
      expect(store2.auth(2).state.creds.me).toBeUndefined()
    })

    it('keeps a paired session and fresh creds', async () => {
      const store = new SqliteSessionStore(opened.db)
      await pair(store, 1)
      const fresh = store.auth(2).state.creds
      expect([await store.discardUnpaired(1), await store.discardUnpaired(2)]).toEqual([false, false])
      expect(store.info(1)).toMatchObject({ paired: true, me: { jid: '15551234567@s.whatsapp.net' } })
      expect(store.auth(2).state.creds).toBe(fresh)
    })
  })
})
