import { describe, expect, it } from 'vitest'
import { joinHeaders } from './headers.js'

describe('joinHeaders', () => {
  it('joins pairs into the first name and one value holding the other lines', () => {
    expect(joinHeaders([['ETag', '"abc"'], ['X-Hub-Epoch', 'e1'], ['X-Hub-Seq', '7']])).toEqual(['ETag', '"abc"\r\nX-Hub-Epoch: e1\r\nX-Hub-Seq: 7'])
  })

  it('refuses a name or value with a line break', () => {
    expect(() => joinHeaders([['ETag', '"a"\r\nSet-Cookie: x']])).toThrow('header ETag holds a line break')
    expect(() => joinHeaders([['ETag', '"a"'], ['X\nY', '1']])).toThrow('header X\nY holds a line break')
  })
})
