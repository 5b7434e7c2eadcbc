/**
 * Secrets at rest (operations.md): Baileys creds and keys, webhook authorization values, proxy
 * passwords and S3 secret keys never reach the database file in clear; the database, its WAL,
 * the key and the lock are the owner's only; a backup taken while the hub runs restores with the
 * same key. The raw files are read only after every connection to them is closed.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { initAuthCreds, type AuthenticationCreds } from '@whiskeysockets/baileys'
import { describe, expect, it } from 'vitest'
import { AesGcmBox } from '../../src/adapters/crypto/secret-box.js'
import { openDb } from '../../src/adapters/sqlite/db.js'
import { SqliteSessionStore } from '../../src/adapters/sqlite/session-store.js'
import { SqliteStore } from '../../src/adapters/sqlite/store.js'
import { ConfigError, loadConfig } from '../../src/app/config.js'
import { defaultConfig } from '../../src/core/integrations.js'
import { initialStatus } from '../../src/core/status.js'
import { hashToken } from '../../src/hub/tokens.js'
import { startTestHub, tempDir, type TestHub } from '../helpers/hub.js'
import { untilValue } from '../helpers/wait.js'

const KEY = randomBytes(32).toString('hex')
const SECRETS = ['Bearer hook-SECRET-1', 'proxy-SECRET-2', 's3-SECRET-3', 'hook-SECRET-4-other-label', 'whsec_SECRET-5-signing']
/** Words only a plaintext Baileys creds or key JSON holds. */
const CREDS_WORDS = ['noiseKey', 'signedIdentityKey', 'advSecretKey', 'registrationId', 'keyPair']

/** The database file and its WAL, as bytes. */
function rawFiles(dir: string): Buffer {
  const db = join(dir, 'statushub.db')
  return Buffer.concat([readFileSync(db), existsSync(`${db}-wal`) ? readFileSync(`${db}-wal`) : Buffer.alloc(0)])
}

/** Where `raw` holds any of `needles` in clear (as text, or as the raw or base64 bytes of a key). */
function found(raw: Buffer, needles: (string | Buffer)[]): string[] {
  const hits: string[] = []
  for (const n of needles) {
    const forms = typeof n === 'string' ? [Buffer.from(n)] : [n, Buffer.from(n.toString('base64'))]
    if (forms.some((f) => raw.includes(f))) hits.push(typeof n === 'string' ? n : `bytes ${n.toString('hex').slice(0, 16)}…`)
  }
  return hits
}

const mode = (path: string) => statSync(path).mode & 0o777

async function pairedHub(env: Record<string, string>, dir = tempDir()): Promise<TestHub> {
  const h = await startTestHub({ HUB_WHATSAPP: 'simulated', ...env }, { dir, whatsapp: {} })
  expect((await h.req('POST', '/api/instance/new', { body: { name: 'sales', proxyPassword: SECRETS[1], proxyHost: 'proxy.example.test', proxyPort: '3128' } })).status).toBe(201)
  expect((await h.req('POST', '/api/events/webhook/sales', { body: { enabled: true, url: 'https://hooks.example.test/a', authorization: SECRETS[0] } })).status).toBe(200)
  expect((await h.req('POST', '/api/events/webhook/sales', { body: { label: 'other', enabled: true, url: 'https://hooks.example.test/b', authorization: SECRETS[3] } })).status).toBe(200)
  expect((await h.req('POST', '/api/instance/s3/sales', { body: { enabled: true, bucket: 'media', accessKey: 'AK', secretKey: SECRETS[2] } })).status).toBe(200)
  expect((await h.req('GET', '/api/instance/connect/sales')).json.status).toBe('qr')
  expect((await h.req('POST', '/api/sim/sales/scan')).status).toBe(200)
  await untilValue(() => h.req('GET', '/api/instance/list'), (r) => r.json.instances[0].status === 'connected', { what: 'sales connected' })
  return h
}

/** The saved creds of instance `id`, read through a store opened with `key`. */
function savedCreds(dir: string, key: string, id: number): AuthenticationCreds {
  const opened = openDb(join(dir, 'statushub.db'), { box: new AesGcmBox(Buffer.from(key, 'hex')) })
  try {
    return new SqliteSessionStore(opened.db, { box: opened.box }).auth(id).state.creds
  } finally {
    opened.close()
  }
}

describe('secrets at rest', () => {
  it('keeps sessions, webhook authorizations and signing secrets, proxy passwords and S3 secret keys out of the database file, which only its owner may read', async () => {
    const dir = tempDir()
    const h = await pairedHub({ HUB_SECRET_KEY: KEY }, dir)
    const id = h.hub.accountNamed('default')!.ids[0]!
    // The hub serves the secrets' effects from memory as before.
    expect((await h.req('GET', '/api/events/getWebhook/sales?label=default')).json.webhook.url).toBe('https://hooks.example.test/a')
    expect(h.hub.instance(id)!.config.webhooks.default!.authorization).toBe(SECRETS[0])
    expect(h.hub.instance(id)!.config.proxy.password).toBe(SECRETS[1])
    const signingSecret = h.hub.instance(id)!.config.webhooks.default!.signingSecret
    expect(signingSecret).toMatch(/^whsec_/)
    for (const f of ['statushub.db', 'statushub.db-wal', 'statushub.db-shm', 'statushub.lock']) expect([f, mode(join(dir, f))]).toEqual([f, 0o600])
    expect(mode(dir)).toBe(0o700)
    await h.stop()

    const creds = savedCreds(dir, KEY, id)
    expect(creds.me?.id).toMatch(/@s\.whatsapp\.net$/)
    const raw = rawFiles(dir)
    expect(raw.includes(Buffer.from('https://hooks.example.test/a'))).toBe(true)
    expect(found(raw, [...SECRETS, signingSecret, ...CREDS_WORDS, Buffer.from(creds.noiseKey.private), Buffer.from(creds.advSecretKey, 'base64')])).toEqual([])
    expect(existsSync(join(dir, 'secret.key'))).toBe(false)
  })

  it('seals signal keys as well, and reads back exactly what Baileys stored', async () => {
    const dir = tempDir()
    const box = new AesGcmBox(Buffer.from(KEY, 'hex'))
    const opened = openDb(join(dir, 'statushub.db'), { box })
    const store = new SqliteStore(opened)
    const accountId = store.createAccount({ name: 'a', instanceLimit: 1, tokenHash: hashToken('t'.repeat(20)), createdAt: new Date(0).toISOString() })
    const id = store.createInstance({ accountId, name: 'x', apiInstanceName: 'x', tokenHash: hashToken('u'.repeat(20)), config: defaultConfig(), createdAt: new Date(0).toISOString() }, initialStatus(new Date(0).toISOString()), new Date(0).toISOString())
    const sessions = new SqliteSessionStore(opened.db, { box: opened.box })
    const keys = sessions.auth(id).state.keys
    const preKey = { private: randomBytes(32), public: randomBytes(32) }
    const session = Buffer.from('session-SECRET-5')
    await keys.set({ 'pre-key': { '7': preKey }, session: { 'peer.0': session } })
    // A second store reads the file, not the first one's cache.
    const fresh = new SqliteSessionStore(opened.db, { box: opened.box }).auth(id).state.keys
    expect(await fresh.get('pre-key', ['7'])).toEqual({ '7': { private: preKey.private, public: preKey.public } })
    opened.close()
    expect(found(rawFiles(dir), [session, preKey.private, preKey.public])).toEqual([])
  })

  it('seals the plaintext sessions and config secrets of an older database on its first start with a key, and none stay in the file', async () => {
    const dir = tempDir()
    // An older database: everything written in clear.
    const plain = openDb(join(dir, 'statushub.db'))
    const store = new SqliteStore(plain)
    const accountToken = 'account-token-0000000000'
    const accountId = store.createAccount({ name: 'default', instanceLimit: 10, tokenHash: hashToken(accountToken), createdAt: new Date(0).toISOString() })
    const config = defaultConfig()
    config.webhooks.default = { label: 'default', enabled: true, url: 'https://hooks.example.test/a', authorization: SECRETS[0]!, byEvents: false, events: [], mediaBase64: false, signingSecret: SECRETS[4]! }
    config.proxy = { ...config.proxy, enabled: true, host: 'proxy.example.test', password: SECRETS[1]! }
    const now = new Date(0).toISOString()
    const id = store.createInstance({ accountId, name: 'sales', apiInstanceName: 't1_sales', tokenHash: hashToken('instance-token-000000000'), config, createdAt: now }, initialStatus(now), now)
    const sessions = new SqliteSessionStore(plain.db)
    const handle = sessions.auth(id)
    const creds = initAuthCreds()
    Object.assign(handle.state.creds, creds)
    await handle.saveCreds()
    const session = Buffer.from('session-SECRET-5')
    await handle.state.keys.set({ session: { 'peer.0': session } })
    plain.close()
    const needles = [SECRETS[0]!, SECRETS[1]!, session, ...CREDS_WORDS, Buffer.from(creds.noiseKey.private)]
    expect(found(rawFiles(dir), needles)).toEqual(needles.map((n) => (typeof n === 'string' ? n : `bytes ${n.toString('hex').slice(0, 16)}…`)))

    const h = await startTestHub({ HUB_SECRET_KEY: KEY }, { dir, token: accountToken })
    const hook = await h.req('GET', '/api/events/getWebhook/sales?label=default')
    expect(hook.json.webhook.url).toBe('https://hooks.example.test/a')
    expect(h.hub.instance(id)!.config.webhooks.default!.authorization).toBe(SECRETS[0])
    expect(h.hub.instance(id)!.config.proxy.password).toBe(SECRETS[1])
    await h.stop()
    expect(found(rawFiles(dir), needles)).toEqual([])
    expect(Buffer.from(savedCreds(dir, KEY, id).noiseKey.private)).toEqual(Buffer.from(creds.noiseKey.private))
  })

  it('generates secret.key (0600) on the first start without HUB_SECRET_KEY and opens the sessions with it after', async () => {
    const dir = tempDir()
    const h = await pairedHub({}, dir)
    const id = h.hub.accountNamed('default')!.ids[0]!
    await h.stop()
    const file = join(dir, 'secret.key')
    expect(mode(file)).toBe(0o600)
    const key = readFileSync(file, 'utf8').trim()
    expect(key).toMatch(/^[0-9a-f]{64}$/)
    expect(found(rawFiles(dir), [...SECRETS, ...CREDS_WORDS])).toEqual([])
    const again = await startTestHub({ HUB_WHATSAPP: 'simulated' }, { dir, whatsapp: {}, token: h.token })
    // The paired session reconnects at start: its creds opened with the key from the file.
    await untilValue(() => again.req('GET', '/api/instance/list'), (r) => r.json.instances[0].status === 'connected', { what: 'sales reconnected' })
    expect(readFileSync(file, 'utf8').trim()).toBe(key)
    await again.stop()
    expect(savedCreds(dir, key, id).me?.id).toMatch(/@s\.whatsapp\.net$/)
  })

  it('refuses to start with a key that does not open the stored secrets, saying which key and what to do', async () => {
    const dir = tempDir()
    const h = await startTestHub({ HUB_SECRET_KEY: KEY }, { dir })
    await h.stop()
    await expect(startTestHub({ HUB_SECRET_KEY: randomBytes(32).toString('hex') }, { dir })).rejects.toThrow(
      `HUB_SECRET_KEY does not open the secrets in ${join(dir, 'statushub.db')}: they were sealed with another key. Set HUB_SECRET_KEY to the key they were written with (or put back the secret.key that came with the database).`,
    )
    // Without the variable and without a key file the hub cannot make up the key.
    await expect(startTestHub({}, { dir })).rejects.toThrow(`holds secrets sealed with a key that is not here: HUB_SECRET_KEY is unset and there was no ${join(dir, 'secret.key')}.`)
    expect(existsSync(join(dir, 'secret.key'))).toBe(false)
    // The refused starts released the data directory.
    const ok = await startTestHub({ HUB_SECRET_KEY: KEY }, { dir })
    await ok.stop()
  })

  it('takes HUB_SECRET_KEY as 64 hex characters or base64 of 32 bytes, and refuses anything else without echoing it', () => {
    const raw = randomBytes(32)
    expect(loadConfig({ HUB_SECRET_KEY: raw.toString('hex') }).secretKey).toBe(raw.toString('hex'))
    expect(loadConfig({ HUB_SECRET_KEY: raw.toString('base64') }).secretKey).toBe(raw.toString('base64'))
    for (const bad of ['not-a-key', randomBytes(16).toString('hex'), randomBytes(33).toString('base64')]) {
      expect(() => loadConfig({ HUB_SECRET_KEY: bad })).toThrow(ConfigError)
      expect(() => loadConfig({ HUB_SECRET_KEY: bad })).toThrow(`HUB_SECRET_KEY: must be 32 bytes, as 64 hex characters or base64 (got ${bad.length} characters)`)
    }
  })

  it('backs up a running hub with `npm run hub -- backup`, and the copy restores with the same key and no other', async () => {
    const dir = tempDir()
    const h = await pairedHub({ HUB_SECRET_KEY: KEY }, dir)
    h.hub.flush()
    const before = (await h.req('GET', '/api/instance/list')).json.instances
    const file = join(tempDir(), 'backup.db')
    const env = { ...process.env, HUB_DATA_DIR: dir, HUB_SECRET_KEY: KEY }
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/app/cli.ts', 'backup', file], { env, encoding: 'utf8' })
    expect([r.status, r.stderr]).toEqual([0, ''])
    expect(r.stdout).toMatch(new RegExp(`^Backup written to ${file} \\(\\d+ pages, \\d+ bytes\\)\\.\\nIts secrets are sealed: restoring it needs the same HUB_SECRET_KEY, which the backup does not contain\\.`))
    expect(mode(file)).toBe(0o600)
    // The hub kept running and writing.
    expect((await h.req('POST', '/api/instance/new', { body: { name: 'after-backup' } })).status).toBe(201)
    await h.stop()
    expect(found(readFileSync(file), [...SECRETS, ...CREDS_WORDS])).toEqual([])

    const restored = tempDir()
    copyFileSync(file, join(restored, 'statushub.db'))
    await expect(startTestHub({}, { dir: restored })).rejects.toThrow(
      `${join(restored, 'statushub.db')} holds secrets sealed with a key that is not here: HUB_SECRET_KEY is unset and there was no ${join(restored, 'secret.key')}. Set HUB_SECRET_KEY`,
    )
    expect(existsSync(join(restored, 'secret.key'))).toBe(false)
    const again = await startTestHub({ HUB_SECRET_KEY: KEY, HUB_WHATSAPP: 'simulated' }, { dir: restored, whatsapp: {}, token: h.token })
    const after = (await again.req('GET', '/api/instance/list')).json.instances
    expect(after.map((i: any) => [i.name, i.webhook, i.proxy, i.s3, i.settings])).toEqual(before.map((i: any) => [i.name, i.webhook, i.proxy, i.s3, i.settings]))
    const id = again.hub.accountNamed('default')!.ids[0]!
    expect(again.hub.instance(id)!.config.webhooks.other!.authorization).toBe(SECRETS[3])
    await untilValue(() => again.req('GET', '/api/instance/list'), (l) => l.json.instances[0].status === 'connected', { what: 'the restored session reconnected' })
    await again.stop()
  })
})
