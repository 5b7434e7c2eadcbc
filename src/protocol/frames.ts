/**
 * @module Stream frames: client frames validated with zod, server control frames encoded here.
 * Change frames (diff, added, removed) are encoded by the hub, once per change, and carried by the
 * change bus; only a `latest` subscriber's folded changes are encoded again, one frame per
 * instance (stream/fold.ts).
 */
import { z } from 'zod'

const id = z.union([z.string().max(64), z.number().int()]).transform(String)
const instances = z.union([z.literal('*'), z.array(z.string().min(1).max(160)).min(1).max(1000)])

export const subscribeFrame = z.strictObject({
  type: z.literal('subscribe'),
  id: id.optional(),
  instances,
  since: z.strictObject({ epoch: z.string().min(1).max(64), seq: z.number().int().min(0) }).optional(),
  mode: z.enum(['ordered', 'latest']).optional(),
})

export const unsubscribeFrame = z.strictObject({
  type: z.literal('unsubscribe'),
  id: id.optional(),
  instances,
})

export const pingFrame = z.strictObject({ type: z.literal('ping'), id: id.optional() })

export type SubscribeFrame = z.infer<typeof subscribeFrame>
export type UnsubscribeFrame = z.infer<typeof unsubscribeFrame>
export type ClientFrame = SubscribeFrame | UnsubscribeFrame | z.infer<typeof pingFrame>

export type Decoded = { ok: true; frame: ClientFrame } | { ok: false; id?: string; message: string }

/** Never throws: every malformed input becomes a message for an error frame. */
export function decodeClientFrame(text: string): Decoded {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return { ok: false, message: 'Invalid JSON' }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, message: 'A frame must be a JSON object' }
  const r = raw as Record<string, unknown>
  const frameId = typeof r.id === 'string' || typeof r.id === 'number' ? String(r.id).slice(0, 64) : undefined
  const schema = r.type === 'subscribe' ? subscribeFrame : r.type === 'unsubscribe' ? unsubscribeFrame : r.type === 'ping' ? pingFrame : null
  if (schema === null) return { ok: false, id: frameId, message: `Unknown frame type ${JSON.stringify(r.type ?? null).slice(0, 40)}` }
  const parsed = schema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const message = issue.code === 'unrecognized_keys' ? `Unknown field "${issue.keys[0]}"` : `Invalid field "${issue.path.join('.')}": ${issue.message}`
    return { ok: false, id: frameId, message }
  }
  return { ok: true, frame: parsed.data }
}

export function errorFrame(id: string | undefined, message: string): string {
  return JSON.stringify(id === undefined ? { type: 'error', message } : { type: 'error', id, message })
}

export function pongFrame(id: string | undefined): string {
  return JSON.stringify(id === undefined ? { type: 'pong' } : { type: 'pong', id })
}

export function resumedFrame(id: string | undefined, epoch: string, seq: number): string {
  return JSON.stringify({ type: 'resumed', id, epoch, seq, recovered: true })
}

const COMMA = Buffer.from(',')
const TAIL = Buffer.from(']}')

/** The snapshot frame in pieces (its head, the items and their commas, its tail), to send as fragments. */
export function snapshotParts(id: string | undefined, epoch: string, seq: number, items: Buffer[]): Buffer[] {
  const head = JSON.stringify({ type: 'snapshot', id, epoch, seq, recovered: false }).slice(0, -1)
  const parts: Buffer[] = [Buffer.from(`${head},"instances":[`)]
  items.forEach((b, i) => {
    if (i > 0) parts.push(COMMA)
    parts.push(b)
  })
  parts.push(TAIL)
  return parts
}

/** `items` are pre-serialised RyzeAPI list items. */
export function snapshotFrame(id: string | undefined, epoch: string, seq: number, items: Buffer[]): Buffer {
  return Buffer.concat(snapshotParts(id, epoch, seq, items))
}
