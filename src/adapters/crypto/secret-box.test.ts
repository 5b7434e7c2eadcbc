import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { AesGcmBox, parseSecretKey } from './secret-box.js'

const key = Buffer.alloc(32, 7)

describe('AesGcmBox', () => {
  it('opens what it sealed, and seals the same text differently each time', () => {
    const box = new AesGcmBox(key)
    const a = box.seal('{"noiseKey":"secret"}')
    const b = box.seal('{"noiseKey":"secret"}')
    expect(a.startsWith('enc:v1:')).toBe(true)
    expect(a).not.toBe(b)
    expect(a).not.toContain('secret')
    expect(box.open(a)).toBe('{"noiseKey":"secret"}')
    expect(box.open(b)).toBe('{"noiseKey":"secret"}')
  })

  it('returns a value written before encryption existed as it is', () => {
    expect(new AesGcmBox(key).open('{"plain":true}')).toBe('{"plain":true}')
    expect(new AesGcmBox(key).isSealed('{"plain":true}')).toBe(false)
  })

  it('refuses a value sealed with another key, and a tampered one', () => {
    const sealed = new AesGcmBox(key).seal('hello')
    expect(() => new AesGcmBox(Buffer.alloc(32, 8)).open(sealed)).toThrow('Unsupported state or unable to authenticate data')
    const raw = Buffer.from(sealed.slice('enc:v1:'.length), 'base64url')
    raw[raw.length - 1] ^= 1
    expect(() => new AesGcmBox(key).open(`enc:v1:${raw.toString('base64url')}`)).toThrow('Unsupported state or unable to authenticate data')
  })

  it('needs a 32-byte key', () => {
    expect(() => new AesGcmBox(Buffer.alloc(16))).toThrow('a secret key is 32 bytes, got 16')
  })
})

describe('parseSecretKey', () => {
  it('takes 64 hex characters or the base64 of 32 bytes, and nothing else', () => {
    const raw = randomBytes(32)
    expect(parseSecretKey(raw.toString('hex'))).toEqual(raw)
    expect(parseSecretKey(raw.toString('base64'))).toEqual(raw)
    expect(parseSecretKey(raw.toString('base64url'))).toEqual(raw)
    expect(parseSecretKey('abc')).toBeNull()
    expect(parseSecretKey(randomBytes(16).toString('hex'))).toBeNull()
  })
})
