import { describe, expect, it } from 'vitest'
import { attentionRank, countReasons, isRetrying, matchesQuery, movesSelection, parseQuery, select } from './query.js'
import { itemOf } from './test-items.js'
import { DEFAULT_VIEW, type View } from './view-state.js'

const CLOSED = { code: 428, name: 'connectionClosed', message: 'Connection Terminated' }
const FORBIDDEN = { code: 403, name: 'forbidden', message: 'Forbidden' }
const at = (min: number) => new Date(Date.UTC(2025, 0, 1, 12, min)).toISOString()
const view = (v: Partial<View>): View => ({ ...DEFAULT_VIEW, ...v })

const fleet = [
  itemOf('n10', { state: 'connected', since: at(1), numberJid: '5511999990010:3@s.whatsapp.net', profile: { name: 'Loja Centro', pictureUrl: null, isBusiness: true, businessName: 'Centro Ltda' } }),
  itemOf('n2', { state: 'connected', since: at(5), numberJid: '5511999990002@s.whatsapp.net' }),
  itemOf('lost', { state: 'disconnected', since: at(3), reason: FORBIDDEN }),
  itemOf('older-lost', { state: 'disconnected', since: at(2), reason: FORBIDDEN }),
  itemOf('gone', { state: 'loggedout', since: at(9) }),
  itemOf('retrying', { state: 'connecting', since: at(8), reason: CLOSED, retryAt: at(10) }),
  itemOf('linking', { state: 'connecting', since: at(7) }),
]

describe('search', () => {
  it('reads a query of digits and separators as a number', () => {
    expect(parseQuery(' +55 (11) 9999-0010 ')).toEqual({ words: ['+55', '(11)', '9999-0010'], digits: '551199990010' })
    expect(parseQuery('Loja centro')).toEqual({ words: ['loja', 'centro'], digits: null })
    expect(parseQuery('   ')).toEqual({ words: [], digits: null })
  })

  it('finds by name, apiInstanceName, profile or business name (every word, any case) and by number digits', () => {
    const q = (text: string) => fleet.filter((i) => matchesQuery(i, parseQuery(text))).map((i) => i.name)
    expect(q('N1')).toEqual(['n10'])
    expect(q('t1_x_older')).toEqual(['older-lost'])
    expect(q('centro loja')).toEqual(['n10'])
    expect(q('ltda')).toEqual(['n10'])
    expect(q('+55 11 99999-0002')).toEqual(['n2'])
    expect(q('99990')).toEqual(['n10', 'n2'])
    expect(q('loja nowhere')).toEqual([])
    expect(q('')).toEqual(fleet.map((i) => i.name))
  })
})

describe('order and filters', () => {
  it('puts disconnected, logged out and retrying first, the newest change first within each', () => {
    expect(select(fleet, view({}))).toEqual(['lost', 'older-lost', 'gone', 'retrying', 'linking', 'n2', 'n10'])
    expect(fleet.map(attentionRank)).toEqual([4, 4, 0, 0, 1, 2, 3])
  })

  it('counts a connecting instance with a reason or a retryAt as retrying, not a first link', () => {
    expect([isRetrying(itemOf('a', { state: 'connecting', retryAt: at(1) })), isRetrying(itemOf('b', { state: 'connecting', reason: CLOSED })), isRetrying(itemOf('c', { state: 'connecting' })), isRetrying(itemOf('d', { state: 'disconnected', reason: CLOSED }))]).toEqual([true, true, false, false])
  })

  it('sorts by name in natural order, and by time in state longest first', () => {
    expect(select(fleet, view({ sort: 'name' }))).toEqual(['gone', 'linking', 'lost', 'n2', 'n10', 'older-lost', 'retrying'])
    expect(select(fleet, view({ sort: 'time' }))).toEqual(['n10', 'older-lost', 'lost', 'n2', 'linking', 'retrying', 'gone'])
  })

  it('filters by states and by reasons, which combine', () => {
    expect(select(fleet, view({ states: new Set(['connecting', 'loggedout']) }))).toEqual(['gone', 'retrying', 'linking'])
    expect(select(fleet, view({ reasons: new Set(['connectionClosed']) }))).toEqual(['retrying'])
    expect(select(fleet, view({ states: new Set(['disconnected']), reasons: new Set(['connectionClosed']) }))).toEqual([])
    expect(select(fleet, view({ states: new Set(['disconnected', 'connected']), q: 'lost' }))).toEqual(['lost', 'older-lost'])
  })

  it('counts reasons in name order', () => {
    expect(countReasons(fleet)).toEqual([
      ['connectionClosed', 1],
      ['forbidden', 2],
    ])
  })

  it('tells a change that can move an instance from one that only updates its view', () => {
    const a = fleet[0]!
    expect(movesSelection(a, { ...a, connection: { ...a.connection, presenceStatus: 'available', displayStatus: 'x' } })).toBe(false)
    expect(movesSelection(a, { ...a, profile: { ...a.profile, pictureUrl: 'https://x/y.jpg' } })).toBe(false)
    expect(movesSelection(a, { ...a, connection: { ...a.connection, state: 'connecting' } })).toBe(true)
    expect(movesSelection(a, { ...a, connection: { ...a.connection, reason: CLOSED } })).toBe(true)
    expect(movesSelection(a, { ...a, connection: { ...a.connection, retryAt: at(3) } })).toBe(true)
    expect(movesSelection(a, { ...a, profile: { ...a.profile, name: 'Other' } })).toBe(true)
  })
})
