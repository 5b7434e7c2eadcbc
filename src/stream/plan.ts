/**
 * @module Subscription planning, shared by every stream transport: which instances a request names
 * (authorization included), and whether it is answered with a replay of the missed changes or a
 * snapshot, instances deleted while the client was away included. Transport-free: the WebSocket and
 * SSE edges only encode what a plan says. Synchronous by contract: a plan and the caller's
 * registration for live changes happen in one turn, so the first live change after the answer is
 * exactly the next seq.
 */
import { HubError, MSG } from '../core/errors.js'
import { normaliseFilter } from '../core/names.js'
import type { InstanceView, TenantPrincipal } from '../hub/model.js'
import type { Change } from '../ports/bus.js'

/** The part of the hub a plan reads. */
export interface StreamSource {
  readonly epoch: string
  account(id: number): { readonly seq: number } | undefined
  instance(id: number): InstanceView | undefined
  reachableBy(p: TenantPrincipal): InstanceView[]
  lookup(accountId: number, ref: string): InstanceView | undefined
  resolveInstance(p: TenantPrincipal, ref: string): InstanceView
  replayFrom(accountId: number, afterSeq: number, maxReplay: number): 'memory' | 'store' | null
  changesAfter(accountId: number, afterSeq: number, limit: number): Change[] | null
  removedAfter(accountId: number, afterSeq: number, names: readonly string[]): Map<string, number>
  itemJson(view: InstanceView, shape: 'ryze'): Buffer
}

/**
 * What a client asked to follow: `*` (its whole reach, including instances created later when it
 * holds an account token), names for the WebSocket, or the list's `instanceName` filter for SSE.
 */
export type Selection = { kind: 'all' } | { kind: 'names'; names: string[] } | { kind: 'filter'; raw: string }

export interface Position {
  epoch: string
  seq: number
}

export interface Targets {
  /** Follows the whole account, including instances created later. */
  all: boolean
  /** The instances named (for `all`, every current one). */
  instances: InstanceView[]
  /** Names a resume gave that no longer exist: maybe deleted while the client was away. */
  gone: string[]
}

export type Answer =
  /**
   * Every change after `since` is still kept: the transport sends `resumed`, then catches the
   * client up page by page (stream/catchup.ts) with the changes of the followed instances and of
   * `removed` (gone names whose removal is among them). `deep`: the change log must be read.
   */
  | { kind: 'resumed'; since: number; deep: boolean; removed: number[] }
  /** A fresh start at `seq`; `items` are the followed instances' serialised list items. */
  | { kind: 'snapshot'; seq: number; items: Buffer[] }

/**
 * The instances a selection names, or a HubError. Another account's names read as unknown. On an
 * account token's resume an unknown name is not refused: it may have been deleted while the client
 * was away (a TokenInstance never followed another instance, so its answer stays an error).
 * - names (WebSocket): every name must resolve; the error names the first that does not.
 * - filter (SSE): the list's rules: one unknown name is 404, several drop the unknown ones.
 */
export function resolveTargets(hub: StreamSource, p: TenantPrincipal, sel: Selection, resume: boolean): Targets {
  if (sel.kind === 'all') return { all: p.kind === 'account', instances: hub.reachableBy(p), gone: [] }
  if (sel.kind === 'filter') {
    const names = normaliseFilter(sel.raw)
    if (p.kind === 'instance' || names === null) return { all: p.kind === 'account', instances: hub.reachableBy(p), gone: [] }
    const found = pick(names, (name) => hub.lookup(p.accountId, name))
    const gone = resume ? found.unknown : []
    if (names.length === 1 && found.instances.length === 0 && gone.length === 0) throw new HubError('notFound', MSG.instanceNotFound)
    return { all: false, instances: found.instances.sort((a, b) => a.id - b.id), gone }
  }
  const out: Targets = { all: false, instances: [], gone: [] }
  for (const name of sel.names) {
    let inst: InstanceView
    try {
      inst = hub.resolveInstance(p, name)
    } catch (err) {
      if (!(err instanceof HubError)) throw err
      if (resume && p.kind === 'account' && err.kind === 'notFound') {
        if (!out.gone.includes(name)) out.gone.push(name)
        continue
      }
      throw new HubError(err.kind, `${err.message}: ${name}`)
    }
    if (!out.instances.includes(inst)) out.instances.push(inst)
  }
  return out
}

/**
 * The answer for `targets` given the client's last position: a replay when every change after it
 * is kept (and no more than `maxReplay` of them) and every gone name's removal is among them, a
 * snapshot otherwise. Never a partial replay.
 */
export function planAnswer(hub: StreamSource, accountId: number, targets: Targets, since: Position | undefined, maxReplay: number): Answer {
  const replay = since !== undefined && since.epoch === hub.epoch ? hub.replayFrom(accountId, since.seq, maxReplay) : null
  if (replay !== null) {
    const removed = hub.removedAfter(accountId, since!.seq, targets.gone)
    if (removed.size === targets.gone.length) return { kind: 'resumed', since: since!.seq, deep: replay === 'store', removed: [...removed.values()] }
  }
  return { kind: 'snapshot', seq: hub.account(accountId)?.seq ?? 0, items: targets.instances.map((t) => hub.itemJson(t, 'ryze')) }
}

/** Which changes a subscription's catch-up sends: all of the account's, or those of its instances. */
export function follows(targets: Targets, answer: Answer): ((instanceId: number) => boolean) | null {
  if (targets.all) return null
  const ids = new Set(targets.instances.map((t) => t.id))
  if (answer.kind === 'resumed') for (const id of answer.removed) ids.add(id)
  return (id) => ids.has(id)
}

function pick(names: string[], find: (name: string) => InstanceView | undefined): { instances: InstanceView[]; unknown: string[] } {
  const byId = new Map<number, InstanceView>()
  const unknown: string[] = []
  for (const name of names) {
    const inst = find(name)
    if (inst === undefined) unknown.push(name)
    else byId.set(inst.id, inst)
  }
  return { instances: [...byId.values()], unknown }
}
