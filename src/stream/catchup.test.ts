import { describe, expect, it } from 'vitest'
import type { InstanceView } from '../hub/model.js'
import type { Change } from '../ports/bus.js'
import { catchupFrom, catchupTurn, followsCatchup, followsLive, PAGE, PAGES_PER_TURN, type CatchupPosition, type Following } from './catchup.js'
import type { Targets } from './plan.js'

const change = (seq: number, instanceId: number, kind: Change['kind'] = 'diff'): Change => ({ seq, instanceId, instance: `#${instanceId}`, kind, at: 0, frame: `f${seq}` })
const view = (id: number) => ({ id, accountId: 1, name: `#${id}`, apiInstanceName: `t1_${id}` }) as InstanceView
const named = (...ids: number[]): Targets => ({ all: false, instances: ids.map(view), gone: [] })
const following = (all: boolean, ...ids: number[]): Following => ({ all, ids: new Set(ids) })

/** An account whose changes 1..head are kept from `oldest` on; it records every read. */
function log(head: number, oldest = 1) {
  const reads: [after: number, limit: number][] = []
  return {
    reads,
    changesAfter(_accountId: number, after: number, limit: number): Change[] | null {
      reads.push([after, limit])
      if (after + 1 < oldest) return null
      const out: Change[] = []
      for (let seq = after + 1; seq <= head && out.length < limit; seq++) out.push(change(seq, 1 + (seq % 3)))
      return out
    },
  }
}

describe('catchupFrom', () => {
  const hub = { account: () => ({ seq: 9 }) }

  it('starts a snapshot\'s catch-up after its seq, with the stream\'s own instances', () => {
    expect(catchupFrom(hub, 1, named(1), { kind: 'snapshot', seq: 7, items: [] })).toEqual({ after: 7, split: 7, answerFollows: null })
  })

  it('starts a replay after its position, with the answer\'s instances and removals up to the head as it is now', () => {
    const k = catchupFrom(hub, 1, named(1, 3), { kind: 'resumed', since: 4, deep: false, removed: [5] })
    expect({ after: k.after, split: k.split }).toEqual({ after: 4, split: 9 })
    expect([1, 2, 3, 4, 5].map((id) => k.answerFollows!(id))).toEqual([true, false, true, false, true])
  })

  it('catches a "*" replay up with the whole account', () => {
    expect(catchupFrom(hub, 1, { all: true, instances: [], gone: [] }, { kind: 'resumed', since: 4, deep: false, removed: [] })).toEqual({ after: 4, split: 9, answerFollows: null })
  })

  it('splits at the replay position when the account is unknown', () => {
    expect(catchupFrom({ account: () => undefined }, 1, named(1), { kind: 'resumed', since: 4, deep: false, removed: [] }).split).toBe(4)
  })
})

describe('followsLive', () => {
  it('passes every change to a "*" stream, and to a named one its instances\' diffs and removals but never an added', () => {
    const changes = [change(1, 1, 'added'), change(2, 1), change(3, 2), change(4, 1, 'removed')]
    expect(changes.map((c) => followsLive(following(true), c))).toEqual([true, true, true, true])
    expect(changes.map((c) => followsLive(following(false, 1), c))).toEqual([false, true, false, true])
  })
})

describe('followsCatchup', () => {
  const answer = (id: number) => id === 2

  it('up to the split sends only the answer\'s instances, even to a stream that follows more', () => {
    const k: CatchupPosition = { after: 0, split: 5, answerFollows: answer }
    expect([1, 2, 3].map((id) => followsCatchup(following(false, 1, 3), k, change(5, id)))).toEqual([false, true, false])
    expect([1, 2, 3].map((id) => followsCatchup(following(true), k, change(5, id)))).toEqual([false, true, false])
  })

  it('after the split sends the stream\'s instances and the answer\'s', () => {
    const k: CatchupPosition = { after: 0, split: 5, answerFollows: answer }
    expect([1, 2, 3, 4].map((id) => followsCatchup(following(false, 1, 3), k, change(6, id)))).toEqual([true, true, true, false])
    expect([1, 2, 3, 4].map((id) => followsCatchup(following(true), k, change(6, id)))).toEqual([true, true, true, true])
  })

  it('with no answer filter sends the stream\'s own instances throughout', () => {
    const k: CatchupPosition = { after: 0, split: 5, answerFollows: null }
    expect([4, 6].flatMap((seq) => [1, 2].map((id) => followsCatchup(following(false, 1), k, change(seq, id))))).toEqual([true, false, true, false])
  })
})

describe('catchupTurn', () => {
  it('reads pages of 256 after the position, at most 4 per turn, then says there is more', () => {
    expect({ PAGE, PAGES_PER_TURN }).toEqual({ PAGE: 256, PAGES_PER_TURN: 4 })
    const hub = log(2000)
    const k: CatchupPosition = { after: 10, split: 10, answerFollows: null }
    const taken: number[][] = []
    const end = catchupTurn(hub, 1, k, () => true, (page) => {
      taken.push([page[0]!.seq, page.at(-1)!.seq])
      k.after = page.at(-1)!.seq
    })
    expect(end).toBe('more')
    expect(hub.reads).toEqual([[10, 256], [266, 256], [522, 256], [778, 256]])
    expect(taken).toEqual([[11, 266], [267, 522], [523, 778], [779, 1034]])
    expect(k.after).toBe(1034)
  })

  it('says it caught up when the hub has nothing after the position', () => {
    const hub = log(300)
    const k: CatchupPosition = { after: 0, split: 0, answerFollows: null }
    expect(catchupTurn(hub, 1, k, () => true, (page) => (k.after = page.at(-1)!.seq))).toBe('caughtUp')
    expect(hub.reads).toEqual([[0, 256], [256, 256], [300, 256]])
  })

  it('says it fell behind when the changes after the position are no longer kept', () => {
    const taken: Change[][] = []
    expect(catchupTurn(log(300, 50), 1, { after: 10, split: 10, answerFollows: null }, () => true, (p) => taken.push(p))).toBe('behind')
    expect(taken).toEqual([])
  })

  it('stops, blocked, as soon as there is no room, and reads again from wherever take left the position', () => {
    const hub = log(2000)
    const k: CatchupPosition = { after: 0, split: 0, answerFollows: null }
    let room = true
    const end = catchupTurn(hub, 1, k, () => room, (page) => {
      // Takes 100 of the page, then the transport pushes back.
      k.after = page[99]!.seq
      room = false
    })
    expect({ end, after: k.after, reads: hub.reads }).toEqual({ end: 'blocked', after: 100, reads: [[0, 256]] })
    expect(catchupTurn(hub, 1, k, () => false, () => {})).toBe('blocked')
    expect(hub.reads).toEqual([[0, 256]])
  })
})
