/**
 * @module The stream's wire frames as the client sees them (see the stream protocol spec), and a
 * parser that turns one text frame into a typed frame or null. Types and pure functions only.
 */
import type { RyzeItem } from '../core/item.js'

/** One instance as the REST list (RyzeAPI shape) and the stream carry it. */
export type InstanceItem = RyzeItem

/** A place in an account's stream. `seq` 0 = nothing happened yet in that epoch. */
export interface Position {
  epoch: string
  seq: number
}

export type SnapshotFrame = { type: 'snapshot'; id: string; epoch: string; seq: number; recovered: false; instances: InstanceItem[] }
export type ResumedFrame = { type: 'resumed'; id: string; epoch: string; seq: number; recovered: true }
export type DiffFrame = {
  type: 'diff'
  epoch: string
  seq: number
  instance: string
  version: number
  at: string
  /** Dotted paths of the item (`connection.state`) to their new values; only changed fields. */
  changes: Record<string, unknown>
}
/** `epoch` is optional: the contract does not promise it on these two. */
export type AddedFrame = { type: 'added'; epoch?: string; seq: number; instance: InstanceItem }
export type RemovedFrame = { type: 'removed'; epoch?: string; seq: number; instance: string }
export type ErrorFrame = { type: 'error'; id?: string; message: string }
export type PongFrame = { type: 'pong'; id: string }

/** Frames that move the stream position. */
export type StreamFrame = SnapshotFrame | ResumedFrame | DiffFrame | AddedFrame | RemovedFrame
export type ServerFrame = StreamFrame | ErrorFrame | PongFrame

export type SubscribeFrame = {
  type: 'subscribe'
  id: string
  instances: '*' | string[]
  mode: 'ordered' | 'latest'
  since?: Position
}

/**
 * The frame a text message holds; null when it is not JSON or a known frame with a bad shape;
 * undefined for a well-formed frame of a type this client does not know (the hub may add types).
 * Checks only what applying the frame relies on; the hub is trusted for the rest.
 */
export function parseFrame(text: unknown): ServerFrame | null | undefined {
  if (typeof text !== 'string') return null
  let f: Record<string, unknown>
  try {
    const v: unknown = JSON.parse(text)
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null
    f = v as Record<string, unknown>
  } catch {
    return null
  }
  const seqOk = typeof f.seq === 'number' && Number.isSafeInteger(f.seq) && f.seq >= 0
  const epochOk = typeof f.epoch === 'string'
  const optEpochOk = f.epoch === undefined || epochOk
  switch (f.type) {
    case 'snapshot':
      return seqOk && epochOk && Array.isArray(f.instances) && f.instances.every(isItem) ? (f as unknown as SnapshotFrame) : null
    case 'resumed':
      return seqOk && epochOk ? (f as unknown as ResumedFrame) : null
    case 'diff':
      return seqOk && epochOk && typeof f.instance === 'string' && typeof f.version === 'number' && isObject(f.changes)
        ? (f as unknown as DiffFrame)
        : null
    case 'added':
      return seqOk && optEpochOk && isItem(f.instance) ? (f as unknown as AddedFrame) : null
    case 'removed':
      return seqOk && optEpochOk && typeof f.instance === 'string' ? (f as unknown as RemovedFrame) : null
    case 'error':
      return typeof f.message === 'string' ? (f as unknown as ErrorFrame) : null
    case 'pong':
      return f as unknown as PongFrame
    default:
      return typeof f.type === 'string' ? undefined : null
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isItem(v: unknown): v is InstanceItem {
  return isObject(v) && typeof v.name === 'string' && typeof v.version === 'number' && isObject(v.connection)
}
