import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AesGcmBox, parseSecretKey } from './secret-box.js'

describe('AesGcmBox, for any input', () => {
  const box = new AesGcmBox(randomBytes(32))

  it('opens what it sealed, and a sealed value never contains its plaintext', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 500 }), (plain) => {
        const sealed = box.seal(plain)
        expect(box.isSealed(sealed)).toBe(true)
        expect(box.open(sealed)).toBe(plain)
        if (plain.length >= 4) expect(sealed.includes(plain)).toBe(false)
      }),
    )
  })

  it('refuses any single flipped bit of a sealed value', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (plain, at, bit) => {
        const sealed = box.seal(plain)
        const raw = Buffer.from(sealed.slice('enc:v1:'.length), 'base64url')
        raw[at % raw.length]! ^= 1 << bit
        expect(() => box.open(`enc:v1:${raw.toString('base64url')}`)).toThrow()
      }),
    )
  })
})

describe('parseSecretKey, for any text', () => {
  it('accepts exactly the encodings of 32 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom('hex', 'base64', 'base64url') as fc.Arbitrary<BufferEncoding>, (bytes, enc) => {
        expect(parseSecretKey(Buffer.from(bytes).toString(enc))).toEqual(Buffer.from(bytes))
      }),
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }).filter((b) => b.length !== 32), (bytes) => {
        expect(parseSecretKey(Buffer.from(bytes).toString('hex'))).toBeNull()
        expect(parseSecretKey(Buffer.from(bytes).toString('base64'))).toBeNull()
      }),
    )
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (s) => {
        const k = parseSecretKey(s)
        expect(k === null || k.length === 32).toBe(true)
      }),
    )
  })
})
