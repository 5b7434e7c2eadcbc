import { describe, expect, it } from 'vitest'
import { closeAction } from './close-codes.js'

describe('closeAction', () => {
  it('stops on 4001 (token revoked)', () => {
    expect(closeAction(4001, null)).toEqual({ kind: 'stop', reason: 'token revoked' })
  })

  it('stops when the upgrade was refused with 401 or 403', () => {
    expect(closeAction(1006, 401)).toEqual({ kind: 'stop', reason: 'token refused (HTTP 401)' })
    expect(closeAction(1006, 403)).toEqual({ kind: 'stop', reason: 'token not allowed (HTTP 403)' })
  })

  it('reconnects slowly on 4029 or a 429 upgrade', () => {
    expect(closeAction(4029, null)).toEqual({ kind: 'reconnect', rateLimited: true })
    expect(closeAction(1006, 429)).toEqual({ kind: 'reconnect', rateLimited: true })
  })

  it('reconnects and resumes on 4008, 1001, 1006, 1009, 1000 and unknown codes', () => {
    for (const code of [4008, 1001, 1006, 1009, 1000, 4999]) expect(closeAction(code, null)).toEqual({ kind: 'reconnect', rateLimited: false })
  })
})
