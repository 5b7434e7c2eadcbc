/**
 * @module Subscribe and unsubscribe on the account stream. The snapshot (or the replay of missed
 * changes), the position it reflects and the topic registration happen in one synchronous block:
 * the hub cannot apply a change in between, so the first live diff is exactly the next seq.
 */
import type { Hub } from '../../../hub/hub.js'
import { ryzeBytes } from '../../../hub/list-views.js'
import type { LiveInstance } from '../../../hub/model.js'
import { errorFrame, resumedFrame, snapshotFrame, type SubscribeFrame, type UnsubscribeFrame } from '../../../protocol/frames.js'
import { topic, type StreamSocket, type Ws } from './sockets.js'

export interface SubscribeLimits {
  maxSubscriptions: number
}

/** Sends a resume's frames at the pace the socket drains (the fan-out owns the pacing). */
export interface CatchUp {
  catchUp(ws: Ws, frames: string[]): void
}

/** The instances a subscribe names, or an error message. Another account's names read as unknown. */
export function resolveTargets(hub: Hub, d: StreamSocket, names: SubscribeFrame['instances']): LiveInstance[] | string {
  const p = d.principal
  if (names === '*') return p.kind === 'instance' ? [p.instance] : hub.instancesOf(p.account)
  const out: LiveInstance[] = []
  for (const name of names) {
    let inst: LiveInstance
    try {
      inst = hub.resolveInstance(p, name)
    } catch (err) {
      return `${(err as Error).message}: ${name}`
    }
    if (!out.includes(inst)) out.push(inst)
  }
  return out
}

export function subscribe(hub: Hub, ws: Ws, f: SubscribeFrame, limits: SubscribeLimits, pacer: CatchUp): void {
  const d = ws.getUserData() as StreamSocket
  const targets = resolveTargets(hub, d, f.instances)
  if (typeof targets === 'string') {
    ws.send(errorFrame(f.id, targets))
    return
  }
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
  const replay = f.since !== undefined && f.since.epoch === hub.epoch ? hub.changesSince(account, f.since.seq) : null
  if (all) {
    d.all = true
    d.ids.clear()
  } else if (!d.all) {
    for (const t of targets) d.ids.add(t.id)
  }

  if (replay !== null) {
    ws.send(resumedFrame(f.id, hub.epoch, f.since!.seq))
    const wanted = new Set(targets.map((t) => t.id))
    const frames = replay.filter((c) => all || wanted.has(c.instanceId)).map((c) => c.frame)
    if (d.backlog !== null) d.backlog.push(...frames)
    else if (frames.length > 0) return pacer.catchUp(ws, frames)
  } else {
    ws.send(snapshotFrame(f.id, hub.epoch, account.seq, targets.map(ryzeBytes)))
  }
  // A detached socket takes its topics back when it drains.
  if (d.folding === null && d.backlog === null) applyTopics(ws)
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
    for (const t of targets) d.ids.delete(t.id)
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
