/**
 * @module Subscribe and unsubscribe on the account stream. The snapshot (or the replay of missed
 * changes), the position it reflects and the topic registration happen in one synchronous block:
 * the hub cannot apply a change in between, so the first live diff is exactly the next seq.
 */
import { HubError } from '../../../core/errors.js'
import type { Change } from '../../../hub/change-ring.js'
import type { Hub } from '../../../hub/hub.js'
import { ryzeBytes } from '../../../hub/list-views.js'
import type { LiveInstance } from '../../../hub/model.js'
import { errorFrame, resumedFrame, snapshotFrame, type SubscribeFrame, type UnsubscribeFrame } from '../../../protocol/frames.js'
import { topic, type Frame, type StreamSocket, type Ws } from './sockets.js'

export interface SubscribeLimits {
  maxSubscriptions: number
}

/** Delivers a subscription's answer behind whatever the socket has queued (the fan-out owns the pacing). */
export interface Answerer {
  answer(ws: Ws, frames: Frame[]): void
}

export interface Targets {
  instances: LiveInstance[]
  /** Names a resume gave that no longer exist; only a resume gets these instead of an error. */
  gone: string[]
}

/**
 * The instances a subscribe names, or an error message. Another account's names read as unknown.
 * On an account token's resume an unknown name is not refused: it may have been deleted while the
 * client was away. (A TokenInstance never followed another instance, so its answer stays an error.)
 */
export function resolveTargets(hub: Hub, d: StreamSocket, names: SubscribeFrame['instances'], resume = false): Targets | string {
  const p = d.principal
  if (names === '*') return { instances: p.kind === 'instance' ? [p.instance] : hub.instancesOf(p.account), gone: [] }
  const out: Targets = { instances: [], gone: [] }
  for (const name of names) {
    let inst: LiveInstance
    try {
      inst = hub.resolveInstance(p, name)
    } catch (err) {
      if (resume && p.kind === 'account' && err instanceof HubError && err.status === 404) {
        if (!out.gone.includes(name)) out.gone.push(name)
        continue
      }
      return `${(err as Error).message}: ${name}`
    }
    if (!out.instances.includes(inst)) out.instances.push(inst)
  }
  return out
}

export function subscribe(hub: Hub, ws: Ws, f: SubscribeFrame, limits: SubscribeLimits, out: Answerer): void {
  const d = ws.getUserData() as StreamSocket
  const resolved = resolveTargets(hub, d, f.instances, f.since !== undefined)
  if (typeof resolved === 'string') {
    ws.send(errorFrame(f.id, resolved))
    return
  }
  const targets = resolved.instances
  const all = f.instances === '*' && d.principal.kind === 'account'
  if (!all && !d.all) {
    const next = new Set([...d.ids, ...targets.map((t) => t.id)])
    if (next.size > limits.maxSubscriptions) {
      ws.send(errorFrame(f.id, `Too many subscriptions (limit ${limits.maxSubscriptions} instances per socket)`))
      return
    }
  }
  if (f.mode !== undefined) d.mode = f.mode

  const account = d.principal.account
  const wanted = new Set(targets.map((t) => t.id))
  let replay = f.since !== undefined && f.since.epoch === hub.epoch ? hub.changesSince(account, f.since.seq) : null
  if (replay !== null && resolved.gone.length > 0) {
    // A gone name is served by the replay only if its removal is in it; otherwise a snapshot.
    const removed = removalsOf(hub, replay, resolved.gone)
    if (removed === null) replay = null
    else for (const id of removed) wanted.add(id)
  }
  if (all) {
    d.all = true
    d.ids.clear()
  } else if (!d.all) {
    for (const t of targets) d.ids.add(t.id)
  }

  if (replay !== null) {
    const frames: Frame[] = [resumedFrame(f.id, hub.epoch, f.since!.seq)]
    for (const c of replay) if (all || wanted.has(c.instanceId)) frames.push(c.frame)
    out.answer(ws, frames)
  } else {
    out.answer(ws, [snapshotFrame(f.id, hub.epoch, account.seq, targets.map(ryzeBytes))])
  }
  // A detached socket takes its topics back when it drains.
  if (!d.closed && d.folding === null && d.backlog === null) applyTopics(ws)
}

/**
 * The ids of the instances the `removed` frames in `replay` name for each of `names`, or null
 * when one of the names has no removal there (deleted before the position, or never existed).
 */
function removalsOf(hub: Hub, replay: Change[], names: string[]): number[] | null {
  const pending = new Set(names)
  const ids: number[] = []
  for (const c of replay) {
    if (pending.size === 0) break
    // Only a change of an instance that no longer exists can be its removal.
    if (hub.getInstance(c.instanceId) !== undefined) continue
    const frame = JSON.parse(c.frame) as { type: string; instance: unknown }
    if (frame.type !== 'removed' || typeof frame.instance !== 'string' || !pending.has(frame.instance)) continue
    pending.delete(frame.instance)
    ids.push(c.instanceId)
  }
  return pending.size === 0 ? ids : null
}

export function unsubscribe(ws: Ws, hub: Hub, f: UnsubscribeFrame): void {
  const d = ws.getUserData() as StreamSocket
  if (f.instances === '*') {
    d.all = false
    d.ids.clear()
  } else {
    if (d.all) {
      ws.send(errorFrame(f.id, 'Cannot unsubscribe single instances from a "*" subscription; unsubscribe "*" instead'))
      return
    }
    const targets = resolveTargets(hub, d, f.instances)
    if (typeof targets === 'string') {
      ws.send(errorFrame(f.id, targets))
      return
    }
    for (const t of targets.instances) d.ids.delete(t.id)
  }
  if (d.folding === null && d.backlog === null) applyTopics(ws)
  else if (d.folding !== null) for (const id of [...d.folding.keys()]) if (!d.all && !d.ids.has(id)) d.folding.delete(id)
  ws.send(JSON.stringify({ type: 'unsubscribed', id: f.id }))
}

/** Makes the socket's uWS topics match its subscription. */
export function applyTopics(ws: Ws): void {
  const d = ws.getUserData() as StreamSocket
  const want = new Set<string>()
  if (d.all) want.add(topic.account(d.principal.account.id))
  else for (const id of d.ids) want.add(topic.instance(id))
  for (const t of ws.getTopics()) if (!want.has(t)) ws.unsubscribe(t)
  for (const t of want) if (!ws.isSubscribed(t)) ws.subscribe(t)
}

export function dropTopics(ws: Ws): void {
  for (const t of ws.getTopics()) ws.unsubscribe(t)
}
