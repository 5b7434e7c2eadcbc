/**
 * @module The key that seals secrets at rest: HUB_SECRET_KEY when set; otherwise `secret.key`
 * beside the database, generated (32 random bytes, hex, 0600) on the first start. Taken only
 * while the data directory's lock is held, so two starts never generate two keys.
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AesGcmBox, parseSecretKey } from '../adapters/crypto/secret-box.js'
import type { SecretBox } from '../ports/secrets.js'

export const KEY_FILE = 'secret.key'

export interface SecretKey {
  box: SecretBox
  /** Where it came from, for messages: `HUB_SECRET_KEY` or the key file's path. */
  source: string
  /** Whether this start wrote the key file. */
  generated: boolean
}

export function keyFilePath(dataDir: string): string {
  return join(dataDir, KEY_FILE)
}

export function loadSecretKey(cfg: { secretKey?: string | undefined; dataDir: string }): SecretKey {
  if (cfg.secretKey !== undefined) {
    // Validated by loadConfig; a config built by hand may still hold anything.
    const key = parseSecretKey(cfg.secretKey)
    if (key === null) throw new Error('HUB_SECRET_KEY: must be 32 bytes, as 64 hex characters or base64')
    return { box: new AesGcmBox(key), source: 'HUB_SECRET_KEY', generated: false }
  }
  const path = keyFilePath(cfg.dataDir)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    const key = randomBytes(32)
    writeFileSync(path, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' })
    return { box: new AesGcmBox(key), source: path, generated: true }
  }
  const key = parseSecretKey(text)
  if (key === null) throw new Error(`${path}: not a secret key (32 bytes, as 64 hex characters or base64); restore the file or set HUB_SECRET_KEY`)
  chmodSync(path, 0o600)
  return { box: new AesGcmBox(key), source: path, generated: false }
}
