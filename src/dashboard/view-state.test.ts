import { describe, expect, it } from 'vitest'
import { DEFAULT_VIEW, isFiltered, parseView, toggled, viewHash, type View } from './view-state.js'

const view = (v: Partial<View>): View => ({ ...DEFAULT_VIEW, ...v })

describe('view in the URL fragment', () => {
  it('writes nothing for the default view, so the bare URL is the default', () => {
    expect(viewHash(DEFAULT_VIEW)).toBe('')
    expect(parseView('')).toEqual(DEFAULT_VIEW)
    expect(parseView('#')).toEqual(DEFAULT_VIEW)
  })

  it('writes every part in a fixed order, states in the STATES order and reasons sorted', () => {
    const v = view({
      q: 'sales desk',
      states: new Set(['loggedout', 'disconnected']),
      reasons: new Set(['forbidden', 'connectionClosed']),
      sort: 'name',
      mode: 'table',
      open: 'sales',
    })
    expect(viewHash(v)).toBe('#q=sales+desk&state=disconnected,loggedout&reason=connectionClosed,forbidden&sort=name&view=table&open=sales')
  })

  it('reads back what it writes, including names that need escaping', () => {
    const v = view({ q: '+55 11 9&x=1#', states: new Set(['connecting']), open: 'a b&c', sort: 'time' })
    const back = parseView(viewHash(v))
    expect(back).toEqual(v)
    expect(viewHash(back)).toBe(viewHash(v))
  })

  it('ignores unknown keys, states, sorts and views', () => {
    expect(parseView('#state=connected,bogus&sort=random&view=grid&token=secret&x=1')).toEqual(view({ states: new Set(['connected']) }))
  })

  it('says whether anything is hidden', () => {
    expect([isFiltered(DEFAULT_VIEW), isFiltered(view({ q: '  ' })), isFiltered(view({ q: 'a' })), isFiltered(view({ reasons: new Set(['x']) })), isFiltered(view({ sort: 'name', mode: 'table' }))]).toEqual([
      false,
      false,
      true,
      true,
      false,
    ])
  })

  it('toggles a value in a copy of a set', () => {
    const a = new Set(['x'])
    expect([...toggled(a, 'y')]).toEqual(['x', 'y'])
    expect([...toggled(a, 'x')]).toEqual([])
    expect([...a]).toEqual(['x'])
  })
})

describe('fragment escapes', () => {
  it('escapes a comma inside a list element but not the separators, and a malformed escape reads as empty', () => {
    const v = view({ reasons: new Set(['a,b', 'c']) })
    expect(viewHash(v)).toBe('#reason=a%2Cb,c')
    expect(parseView(viewHash(v)).reasons).toEqual(new Set(['a,b', 'c']))
    expect(parseView('#q=%E0%A4%A&sort=name')).toEqual(view({ sort: 'name' }))
  })
})
