/**
 * @module Standard Webhooks signing (https://www.standardwebhooks.com): the per-webhook secret
 * `whsec_<base64 of 32 random bytes>`, and `v1,<base64 HMAC-SHA256>` over `id.timestamp.body`
 * keyed with the secret's decoded base64 part. The `standardwebhooks` package verifies it.
 */
import { createHmac, randomBytes } from 'node:crypto'

const PREFIX = 'whsec_'

export function newSigningSecret(): string {
  return PREFIX + randomBytes(32).toString('base64')
}

/** The `webhook-signature` value; `timestampS` is the `webhook-timestamp` (Unix seconds). */
export function signature(secret: string, id: string, timestampS: number, body: string): string {
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64')
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampS}.${body}`).digest('base64')}`
}
