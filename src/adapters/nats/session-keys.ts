/**
 * @module Key names of the sessions bucket: `c.<instanceId>` holds an instance's creds entry,
 * `k.<instanceId>.<type>.<id>` one signal key. The type and id tokens are base64url without
 * padding: Baileys ids are JIDs and addresses (`…:12@s.whatsapp.net`, `…@lid`), and KV keys accept
 * only `[-/=.\w]` (the bundled Base64KeyCodec uses the standard alphabet, whose `+` is refused).
 */
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream'

/** The empty string has no base64url form; `=` never occurs in unpadded base64url. */
const EMPTY_TOKEN = '='

export function token(text: string): string {
  return text === '' ? EMPTY_TOKEN : Buffer.from(text, 'utf8').toString('base64url')
}

export function untoken(tok: string): string {
  return tok === EMPTY_TOKEN ? '' : Buffer.from(tok, 'base64url').toString('utf8')
}

export const CREDS_FILTER = 'c.>'

export function credsKey(instanceId: number): string {
  return `c.${instanceId}`
}

/** The instance id of a creds key, or null for anything else. */
export function instanceOfCredsKey(key: string): number | null {
  const m = /^c\.(\d+)$/.exec(key)
  return m === null ? null : Number(m[1])
}

export function signalKey(instanceId: number, type: string, id: string): string {
  return `k.${instanceId}.${token(type)}.${token(id)}`
}

/** Every signal key of one instance, as a subject filter below the bucket's prefix. */
export function signalFilter(instanceId: number): string {
  return `k.${instanceId}.>`
}

/** A compare-and-set that found another revision (JetStream's "wrong last sequence"). */
export function isWrongRevision(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  )
}
