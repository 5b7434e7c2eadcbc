/**
 * @module AES-256-GCM with node:crypto: `enc:v1:<base64url iv(12) ‖ tag(16) ‖ ciphertext>`. A fresh
 * random IV per value; the tag authenticates it, so a tampered or foreign value fails to open
 * instead of yielding garbage.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import type { SecretBox } from '../../ports/secrets.js'

const PREFIX = 'enc:v1:'

export class AesGcmBox implements SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error(`a secret key is 32 bytes, got ${key.length}`)
  }

  seal(plain: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')
  }

  open(stored: string): string {
    if (!this.isSealed(stored)) return stored
    const raw = Buffer.from(stored.slice(PREFIX.length), 'base64url')
    if (raw.length < 28) throw new Error('a sealed value is truncated')
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12))
    decipher.setAuthTag(raw.subarray(12, 28))
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
  }

  isSealed(stored: string): boolean {
    return stored.startsWith(PREFIX)
  }
}

/** `HUB_SECRET_KEY`: 64 hex characters or base64 of 32 bytes; null when it is neither. */
export function parseSecretKey(text: string): Buffer | null {
  const t = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex')
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const b = Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64')
    if (b.length === 32) return b
  }
  return null
}
