/**
 * @module Tokens: generated with 192 random bits, stored only as SHA-256 hashes, compared in
 * constant time. A fast hash is enough because tokens are random, not passwords.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export function newToken(): string {
  return randomBytes(24).toString('base64url')
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export function sameHash(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'))
}

export function randomBase36(length: number): string {
  const bytes = randomBytes(length)
  let out = ''
  for (const b of bytes) out += (b % 36).toString(36)
  return out
}
