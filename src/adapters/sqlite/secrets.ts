/**
 * @module Secrets at rest in the hub's database. Sealed with the database's SecretBox before they
 * are written, opened after they are read: Baileys creds (wa_creds.creds) and signal keys
 * (wa_keys.value) whole, and the secret fields of an instance's config inside instances.config
 * (sealConfig / openConfig). `openDb(path, { box })` puts the box on `OpenedDb.box`: any adapter
 * on that database seals its own secrets with it.
 *
 * The first open with a box seals every plaintext secret written before (then VACUUMs and
 * truncates the WAL, so no old page keeps them) and stores a check value that later opens verify:
 * a wrong key stops the start instead of failing at the first session read.
 */
import type Database from 'better-sqlite3'
import type { InstanceConfig, WebhookConfig } from '../../core/integrations.js'
import type { SecretBox } from '../../ports/secrets.js'

/** For a database opened without a key (tests, tools): writes as is, refuses sealed values. */
export const NO_KEY: SecretBox = {
  seal: (plain) => plain,
  open: (stored) => {
    if (NO_KEY.isSealed(stored)) throw new Error('this value is sealed: open the database with its secret key')
    return stored
  },
  isSealed: (stored) => stored.startsWith('enc:'),
}

/** The secret fields of each webhook, sealed for every label. */
export const WEBHOOK_SECRETS = ['authorization', 'signingSecret'] as const satisfies readonly (keyof WebhookConfig)[]

type Fields = { [K in keyof InstanceConfig]?: readonly string[] }
/**
 * The secret fields of the other blocks: those the API never returns. (The Chatwoot apiToken is
 * part of the list item, as RyzeAPI returns it, so it is in every published frame and the change log.)
 */
const BLOCK_SECRETS: Fields = { proxy: ['password'], s3: ['secretKey'] }

/** A copy of `config` with each non-empty secret passed through `f`. Missing blocks stay missing. */
function mapSecrets(config: InstanceConfig, f: (v: string) => string): InstanceConfig {
  const out = { ...config } as Record<string, unknown>
  for (const [block, fields] of Object.entries(BLOCK_SECRETS)) {
    const b = out[block] as Record<string, unknown> | undefined
    if (b === undefined) continue
    const copy = { ...b }
    for (const field of fields) if (typeof copy[field] === 'string' && copy[field] !== '') copy[field] = f(copy[field] as string)
    out[block] = copy
  }
  if (config.webhooks !== undefined) {
    out.webhooks = Object.fromEntries(
      Object.entries(config.webhooks).map(([label, hook]) => {
        const copy = { ...hook } as Record<string, unknown>
        for (const field of WEBHOOK_SECRETS) if (typeof copy[field] === 'string' && copy[field] !== '') copy[field] = f(copy[field] as string)
        return [label, copy]
      }),
    )
  }
  return out as unknown as InstanceConfig
}

export function sealConfig(box: SecretBox, config: InstanceConfig): InstanceConfig {
  return mapSecrets(config, (v) => (box.isSealed(v) ? v : box.seal(v)))
}

export function openConfig(box: SecretBox, config: InstanceConfig): InstanceConfig {
  return mapSecrets(config, (v) => box.open(v))
}

const CHECK_KEY = 'secret_check'
const CHECK_TEXT = 'statushub secrets'

export class WrongSecretKey extends Error {
  override name = 'WrongSecretKey'
}

/**
 * Whether `box` opens this database's secrets, without changing anything: true when it opens the
 * stored check value, or when none is stored (the database was never opened with a key).
 */
export function keyOpens(sqlite: Database.Database, box: SecretBox): boolean {
  const check = sqlite.prepare('SELECT value FROM meta WHERE key = ?').get(CHECK_KEY) as { value: string } | undefined
  if (check === undefined) return true
  try {
    return box.open(check.value) === CHECK_TEXT
  } catch {
    return false
  }
}

/**
 * Verifies the key against the stored check value; on the first open with a key, seals every
 * plaintext secret. Returns how many values it sealed. Runs before anything else reads the database.
 */
export function prepareSecrets(sqlite: Database.Database, box: SecretBox): number {
  const check = sqlite.prepare('SELECT value FROM meta WHERE key = ?').get(CHECK_KEY) as { value: string } | undefined
  if (check !== undefined) {
    let opened: string | null = null
    try {
      opened = box.open(check.value)
    } catch {
      opened = null
    }
    if (opened !== CHECK_TEXT) throw new WrongSecretKey('the secret key does not open the secrets in this database: they were sealed with another key')
    return 0
  }
  let sealed = 0
  sqlite.transaction(() => {
    const creds = sqlite.prepare('SELECT instance_id AS id, creds FROM wa_creds').all() as { id: number; creds: string }[]
    const setCreds = sqlite.prepare('UPDATE wa_creds SET creds = ? WHERE instance_id = ?')
    for (const r of creds) {
      if (box.isSealed(r.creds)) continue
      setCreds.run(box.seal(r.creds), r.id)
      sealed++
    }
    const setKey = sqlite.prepare('UPDATE wa_keys SET value = ? WHERE rowid = ?')
    // Paged by rowid: a statement cannot write while another one is still reading.
    const page = sqlite.prepare('SELECT rowid AS id, value FROM wa_keys WHERE rowid > ? ORDER BY rowid LIMIT 5000')
    for (let after = 0; ; ) {
      const rows = page.all(after) as { id: number; value: string }[]
      if (rows.length === 0) break
      for (const r of rows) {
        if (box.isSealed(r.value)) continue
        setKey.run(box.seal(r.value), r.id)
        sealed++
      }
      after = rows[rows.length - 1]!.id
    }
    const setConfig = sqlite.prepare('UPDATE instances SET config = ? WHERE id = ?')
    for (const r of sqlite.prepare('SELECT id, config FROM instances').all() as { id: number; config: string }[]) {
      const before = JSON.parse(r.config) as InstanceConfig
      let n = 0
      const after = mapSecrets(before, (v) => {
        if (box.isSealed(v)) return v
        n++
        return box.seal(v)
      })
      if (n === 0) continue
      setConfig.run(JSON.stringify(after), r.id)
      sealed += n
    }
    sqlite.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(CHECK_KEY, box.seal(CHECK_TEXT))
  })()
  if (sealed > 0) {
    // The plaintext is still in freed pages and in the WAL's old frames: rewrite the file, empty the WAL.
    sqlite.exec('VACUUM')
    sqlite.pragma('wal_checkpoint(TRUNCATE)')
  }
  return sealed
}
