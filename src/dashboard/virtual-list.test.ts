import { describe, expect, it } from 'vitest'
import { columnsFor, rangeOf } from './virtual-list.js'

describe('rangeOf', () => {
  it('renders the rows in view and the overscan either side', () => {
    // 10,000 rows of 40 px, 800 px tall viewport scrolled to row 5,000, 8 rows of overscan.
    expect(rangeOf(200_000, 800, 0, 10_000, 40, 1, 8)).toEqual({ start: 4992, end: 5028, firstRow: 4992, rows: 10_000 })
  })

  it('clamps at both ends and counts the rows under a sticky header as scrolled', () => {
    expect(rangeOf(0, 800, 35, 10_000, 40, 1, 8)).toEqual({ start: 0, end: 28, firstRow: 0, rows: 10_000 })
    expect(rangeOf(400_035, 800, 35, 10_000, 40, 1, 8)).toEqual({ start: 9992, end: 10_000, firstRow: 9992, rows: 10_000 })
    expect(rangeOf(0, 800, 0, 0, 40, 1, 8)).toEqual({ start: 0, end: 0, firstRow: 0, rows: 0 })
  })

  it('renders whole rows of a grid, the last one short', () => {
    // 10 items in 4 columns: 3 rows; everything fits.
    expect(rangeOf(0, 900, 0, 10, 250, 4, 2)).toEqual({ start: 0, end: 10, firstRow: 0, rows: 3 })
    expect(rangeOf(2500, 500, 0, 1000, 250, 4, 1)).toEqual({ start: 36, end: 52, firstRow: 9, rows: 250 })
  })
})

describe('columnsFor', () => {
  it('fits as many columns of the minimum width as the gaps allow, at least one', () => {
    expect([columnsFor(1248, 285, 11), columnsFor(1172, 285, 11), columnsFor(1173, 285, 11), columnsFor(300, 285, 11), columnsFor(100, 285, 11)]).toEqual([4, 3, 4, 1, 1])
  })
})
