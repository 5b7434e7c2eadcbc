import { describe, expect, it } from 'vitest'
import { normaliseFilter } from './names.js'

describe('normaliseFilter', () => {
  it.each([
    [undefined, null],
    ['', []],
    ['sales', ['sales']],
    ['  sales ', ['sales']],
    [' , ,', []],
    ['support,sales', ['sales', 'support']],
    ['sales, sales ,support,', ['sales', 'support']],
  ])('normalises %j to %j', (raw, expected) => {
    expect(normaliseFilter(raw)).toEqual(expected)
  })
})
