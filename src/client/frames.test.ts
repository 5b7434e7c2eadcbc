import { describe, expect, it } from 'vitest'
import { parseFrame } from './frames.js'

describe('parseFrame', () => {
  it('returns a diff frame as sent', () => {
    const f = { type: 'diff', epoch: 'e', seq: 3, instance: 'a', version: 2, at: 'x', changes: { 'connection.state': 'connected' } }
    expect(parseFrame(JSON.stringify(f))).toEqual(f)
  })

  it('returns null for malformed JSON, non-objects, a missing type and non-string data', () => {
    expect([parseFrame('{'), parseFrame('[1]'), parseFrame('null'), parseFrame('{"seq":1}'), parseFrame(new Uint8Array(2))]).toEqual([null, null, null, null, null])
  })

  it('returns undefined for a frame type it does not know, such as unsubscribed', () => {
    expect(parseFrame('{"type":"unsubscribed","id":"2"}')).toBeUndefined()
  })

  it('returns null for a diff without a numeric seq or without changes', () => {
    expect(parseFrame('{"type":"diff","epoch":"e","seq":"3","instance":"a","version":2,"changes":{}}')).toBeNull()
    expect(parseFrame('{"type":"diff","epoch":"e","seq":3,"instance":"a","version":2}')).toBeNull()
  })

  it('accepts added and removed frames without an epoch', () => {
    expect(parseFrame('{"type":"removed","seq":4,"instance":"a"}')).toEqual({ type: 'removed', seq: 4, instance: 'a' })
  })

  it('returns null for a snapshot whose items lack a name', () => {
    expect(parseFrame('{"type":"snapshot","id":"1","epoch":"e","seq":0,"recovered":false,"instances":[{"version":1,"connection":{}}]}')).toBeNull()
  })
})
