import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeClientFrame } from './frames.js'

describe('decodeClientFrame, for any text', () => {
  it('never throws, and every refusal carries a message', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue().map((v) => JSON.stringify(v)), fc.object().map((o) => JSON.stringify({ type: 'subscribe', ...o }))), (text) => {
        const d = decodeClientFrame(text)
        if (!d.ok) {
          expect(typeof d.message).toBe('string')
          expect(d.message.length).toBeGreaterThan(0)
          if (d.id !== undefined) expect(d.id.length).toBeLessThanOrEqual(64)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('accepts every well-formed subscribe and keeps what it says', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constant('*' as const), fc.array(fc.string({ minLength: 1, maxLength: 160 }), { minLength: 1, maxLength: 50 })),
        fc.option(fc.record({ epoch: fc.string({ minLength: 1, maxLength: 64 }), seq: fc.nat() }), { nil: undefined }),
        fc.option(fc.constantFrom('ordered' as const, 'latest' as const), { nil: undefined }),
        (instances, since, mode) => {
          const d = decodeClientFrame(JSON.stringify({ type: 'subscribe', id: 'x', instances, since, mode }))
          expect(d).toEqual({ ok: true, frame: { type: 'subscribe', id: 'x', instances, ...(since ? { since } : {}), ...(mode ? { mode } : {}) } })
        },
      ),
    )
  })
})
