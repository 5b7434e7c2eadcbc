/**
 * @module The catch-up after a subscription's answer, shared by every stream transport: which
 * changes reach a stream (live, and pulled from the hub after the answer), where its catch-up
 * starts, and the paging that pulls it in bounded work per event-loop turn. Transport-free: the
 * WebSocket fan-out and SSE only send what these say, and own their backpressure.
 */
import type { Change } from '../ports/bus.js'
import { follows, type Answer, type StreamSource, type Targets } from './plan.js'

/** What a stream follows: the whole account (including instances created later), or `ids`. */
export interface Following {
  readonly all: boolean
  /** Instance ids followed by name (ignored when `all`). */
  readonly ids: ReadonlySet<number>
}

/** Where a stream's catch-up stands. */
export interface CatchupPosition {
  /** The last seq this stream has been sent (or that its answer covers); the catch-up starts after it. */
  after: number
  /** Up to this seq only the answer's own instances are caught up (`answerFollows`); after it, the stream's. */
  split: number
  /** The answer's instances (null: the whole account), from plan.ts's `follows`. */
  answerFollows: ((instanceId: number) => boolean) | null
}

/** Changes pulled per hub read, and hub reads per stream per event-loop turn: bounded work per turn. */
export const PAGE = 256
export const PAGES_PER_TURN = 4

/**
 * Where the catch-up after `answer` starts: after a replay's position, caught up with the answer's
 * instances (its removals included) up to the account's head as it is now; after a snapshot's seq,
 * with the stream's own instances.
 */
export function catchupFrom(hub: Pick<StreamSource, 'account'>, accountId: number, targets: Targets, answer: Answer): CatchupPosition {
  if (answer.kind === 'snapshot') return { after: answer.seq, split: answer.seq, answerFollows: null }
  return { after: answer.since, split: hub.account(accountId)?.seq ?? answer.since, answerFollows: follows(targets, answer) }
}

/**
 * Whether a live change reaches a stream, as the WebSocket topics route it: an `added` goes to
 * the account's followers only (names were resolved to instances that existed before it).
 */
export function followsLive(f: Following, c: Pick<Change, 'kind' | 'instanceId'>): boolean {
  if (f.all) return true
  return c.kind !== 'added' && f.ids.has(c.instanceId)
}

/** Whether a caught-up change reaches a stream: its answer's instances up to the split, then its own and the answer's. */
export function followsCatchup(f: Following, k: CatchupPosition, c: Pick<Change, 'seq' | 'instanceId'>): boolean {
  if (c.seq <= k.split && k.answerFollows !== null) return k.answerFollows(c.instanceId)
  if (f.all) return true
  return f.ids.has(c.instanceId) || (k.answerFollows?.(c.instanceId) ?? false)
}

/**
 * How a turn of catch-up ended: `caughtUp` (the hub has nothing after `after`: the stream goes
 * live in this same turn, so nothing is missed), `behind` (the changes after `after` are no longer
 * kept: the stream must be ended, it resumes with a snapshot), `more` (the turn's pages are read:
 * continue next turn), `blocked` (`room` said no: continue when the transport drains).
 */
export type CatchupTurn = 'caughtUp' | 'behind' | 'more' | 'blocked'

/**
 * One turn of catch-up: while `room()` allows, reads the next page after `k.after` and hands it
 * to `take`, which sends what it can and moves `k.after` past what it handled (whatever it leaves
 * is read again next time). At most PAGES_PER_TURN reads per turn.
 */
export function catchupTurn(
  hub: Pick<StreamSource, 'changesAfter'>,
  accountId: number,
  k: CatchupPosition,
  room: () => boolean,
  take: (page: Change[]) => void,
): CatchupTurn {
  for (let pages = 0; room(); pages++) {
    if (pages === PAGES_PER_TURN) return 'more'
    const page = hub.changesAfter(accountId, k.after, PAGE)
    if (page === null) return 'behind'
    if (page.length === 0) return 'caughtUp'
    take(page)
  }
  return 'blocked'
}
