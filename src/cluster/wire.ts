/**
 * @module What a writer appends to its account's change subject, and what every node reads back.
 * A change carries its bus record (the frame every subscriber gets, unchanged) and the instance's
 * whole state after it, sealed: the state holds the token hash and the config's secrets. A token
 * message carries an instance's new token hash; it takes no seq (no frame is sent for it), and is
 * ordered with the changes because the same writer appends it to the same subject.
 */
import type { ChangeRecord } from '../ports/bus.js'
import type { SecretBox } from '../ports/secrets.js'
import type { PreparedChange } from '../hub/hub.js'
import type { InstanceState } from '../hub/model.js'

export type EngineMessage =
  | { t: 'change'; change: PreparedChange }
  | { t: 'token'; instanceId: number; tokenHash: string }

interface ChangeWire {
  t: 'c'
  r: ChangeRecord
  /** The sealed InstanceState. */
  s: string
}
interface TokenWire {
  t: 'k'
  i: number
  /** The sealed token hash. */
  h: string
}

export function encodeMessage(m: EngineMessage, box: SecretBox): string {
  if (m.t === 'token') return JSON.stringify({ t: 'k', i: m.instanceId, h: box.seal(m.tokenHash) } satisfies TokenWire)
  return JSON.stringify({ t: 'c', r: m.change.record, s: box.seal(JSON.stringify(m.change.state)) } satisfies ChangeWire)
}

/** Throws on a message no writer of this version wrote (the caller logs it and skips it). */
export function decodeMessage(text: string, box: SecretBox): EngineMessage {
  const w = JSON.parse(text) as ChangeWire | TokenWire
  if (w.t === 'k') return { t: 'token', instanceId: w.i, tokenHash: box.open(w.h) }
  if (w.t === 'c') return { t: 'change', change: { record: w.r, state: JSON.parse(box.open(w.s)) as InstanceState } }
  throw new Error(`unknown engine message type ${JSON.stringify((w as { t?: unknown }).t)}`)
}

/** The instance snapshot a writer keeps behind in sh_state (`i.<id>`): its state and last seq. */
export interface SnapshotEntry {
  seq: number
  state: InstanceState
}

export const encodeSnapshot = (e: SnapshotEntry, box: SecretBox) => box.seal(JSON.stringify(e))
export const decodeSnapshot = (text: string, box: SecretBox) => JSON.parse(box.open(text)) as SnapshotEntry

/** An account as sh_state keeps it (`a.<id>`). */
export interface AccountEntry {
  id: number
  name: string
  instanceLimit: number
  tokenHash: string
  createdAt: string
}
