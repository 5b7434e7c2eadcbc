import { describe, expect, it } from 'vitest'
import { closeMeaning } from './close-codes.js'

describe('closeMeaning', () => {
  it.each([
    [515, 'Stream Errored (restart required)', 'restartRequired', 'restart'],
    [408, 'QR refs attempts ended', 'qrExpired', 'qrExpired'],
    [408, 'Connection was lost', 'connectionLost', 'transient'],
    [408, 'Timed Out', 'timedOut', 'transient'],
    [408, 'Pre-key upload timeout', 'timedOut', 'transient'],
    [408, 'WebSocket Error (connect ECONNREFUSED 127.0.0.1:1)', 'connectionLost', 'transient'],
    [428, 'Connection Terminated', 'connectionClosed', 'transient'],
    [428, 'Connection Terminated by Server', 'connectionClosed', 'transient'],
    [500, 'Stream Errored (xml-not-well-formed)', 'badSession', 'transient'],
    [503, 'Stream Errored (service-unavailable)', 'unavailableService', 'transient'],
    [440, 'Stream Errored (conflict)', 'connectionReplaced', 'conflict'],
    [401, 'Stream Errored (conflict)', 'loggedOut', 'loggedOut'],
    [401, 'Connection Failure', 'loggedOut', 'loggedOut'],
    [401, 'Intentional Logout', 'loggedOut', 'loggedOut'],
    [403, 'Connection Failure', 'forbidden', 'blocked'],
    [402, 'Connection Failure', 'temporarilyBanned', 'blocked'],
    [406, 'Connection Failure', 'banned', 'blocked'],
    [405, 'Connection Failure', 'clientTooOld', 'needsUpdate'],
    [411, 'Multi-device beta not joined', 'multideviceMismatch', 'needsAttention'],
    [undefined, 'internal error', 'connectionError', 'transient'],
    [499, 'Connection Failure', 'unknown', 'transient'],
  ])('code %s with message %j is %s (%s)', (code, message, name, cls) => {
    const m = closeMeaning(code, message)
    expect({ name: m.name, class: m.class }).toEqual({ name, class: cls })
  })

  it('labels a handshake timeout "timed out" and a keep-alive miss "connection lost"', () => {
    expect([closeMeaning(408, 'Timed Out').label, closeMeaning(408, 'Connection was lost').label]).toEqual(['timed out', 'connection lost'])
  })

  it('labels an unknown code with the number', () => {
    expect(closeMeaning(499, 'x').label).toBe('code 499')
  })
})
