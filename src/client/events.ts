/**
 * @module What a StatusClient reports, and the two fan-outs it uses: typed event listeners, and
 * change batches flushed at most once per scheduler tick.
 */
import type { InstanceItem, Position } from './frames.js'

/**
 * `connecting`: first connection, nothing received yet. `open`: subscribed and following live.
 * `reconnecting`: the socket was lost; a retry is scheduled or under way. `closed`: before start,
 * after stop, or after a terminal close (the event's `reason` says which).
 */
export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed'

export type ClientEvent =
  | {
      type: 'state'
      state: ClientState
      previous: ClientState
      /** Retries since the last stable open; 0 unless reconnecting. */
      attempt: number
      /** When reconnecting: the delay before the next try. */
      delayMs: number | null
      /** Close code of the lost socket, when there was one. */
      code: number | null
      reason: string
    }
  /** The mirror was replaced by a full snapshot: a fresh subscribe, or a resume the hub could not serve. */
  | { type: 'snapshot'; recovered: false; position: Position; instances: ReadonlyMap<string, InstanceItem> }
  /** A resume the hub served: every missed change follows as ordinary diff/added/removed events. */
  | { type: 'resumed'; recovered: true; position: Position }
  | { type: 'diff'; seq: number; name: string; item: InstanceItem; previous: InstanceItem; changes: Record<string, unknown>; at: string }
  | { type: 'added'; seq: number; name: string; item: InstanceItem }
  | { type: 'removed'; seq: number; name: string; previous: InstanceItem }
  /** An error frame from the hub, or a frame this client could not read. `id` names the refused request. */
  | { type: 'error'; message: string; id: string | null }

export type ClientEventType = ClientEvent['type']

/** Names whose mirror entry changed since the last batch. `reset`: the whole mirror was replaced. */
export interface ChangeBatch {
  reset: boolean
  upserted: ReadonlySet<string>
  removed: ReadonlySet<string>
}

type Listener = (e: ClientEvent) => void

export class Emitter {
  private readonly listeners = new Map<ClientEventType, Set<Listener>>()

  constructor(private readonly all?: (e: ClientEvent) => void) {}

  on<T extends ClientEventType>(type: T, fn: (e: Extract<ClientEvent, { type: T }>) => void): () => void {
    let set = this.listeners.get(type)
    if (set === undefined) this.listeners.set(type, (set = new Set()))
    set.add(fn as Listener)
    return () => set.delete(fn as Listener)
  }

  emit(e: ClientEvent): void {
    const set = this.listeners.get(e.type)
    if (set !== undefined) for (const fn of set) guarded(fn, e)
    if (this.all) guarded(this.all, e)
  }
}

/** Collects changed names until the scheduled flush; a reset batch stands for the whole mirror. */
export class Batcher {
  private readonly listeners = new Set<(b: ChangeBatch) => void>()
  private batch: { reset: boolean; upserted: Set<string>; removed: Set<string> } | null = null

  constructor(private readonly schedule: (flush: () => void) => void) {}

  onChange(fn: (batch: ChangeBatch) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  touch(kind: 'reset' | 'upsert' | 'remove', name: string): void {
    if (this.listeners.size === 0) return
    if (this.batch === null) {
      this.batch = { reset: false, upserted: new Set(), removed: new Set() }
      // Called detached: browsers throw "Illegal invocation" for requestAnimationFrame or
      // queueMicrotask called with a `this` other than the window.
      const schedule = this.schedule
      schedule(() => this.flush())
    }
    const b = this.batch
    if (kind === 'reset') {
      b.reset = true
      b.upserted.clear()
      b.removed.clear()
    } else if (b.reset) {
      // A reset batch is rendered from the whole mirror; names add nothing.
    } else if (kind === 'upsert') {
      b.removed.delete(name)
      b.upserted.add(name)
    } else {
      b.upserted.delete(name)
      b.removed.add(name)
    }
  }

  private flush(): void {
    const b = this.batch
    this.batch = null
    if (b === null) return
    for (const fn of this.listeners) guarded(fn, b)
  }
}

/** A throwing listener must not break the client's bookkeeping; its error surfaces asynchronously. */
function guarded<T>(fn: (arg: T) => void, arg: T): void {
  try {
    fn(arg)
  } catch (err) {
    queueMicrotask(() => {
      throw err
    })
  }
}
