import { describe, expect, it } from 'vitest'
import type { CloseCause } from './events.js'
import { closeMeaning, innerMessage } from './close-codes.js'

describe('closeMeaning', () => {
  it.each<[number | undefined, string, string, string]>([
    [515, 'Stream Errored (restart required)', 'restartRequired', 'restart'],
    [408, 'QR refs attempts ended', 'qrExpired', 'qrExpired'],
    [408, 'Connection was lost', 'connectionLost', 'transient'],
    [408, 'Timed Out', 'timedOut', 'transient'],
    [408, 'Pre-key upload timeout', 'timedOut', 'transient'],
    [428, 'Connection Terminated', 'connectionClosed', 'transient'],
    [428, 'Connection Terminated by Server', 'connectionClosed', 'transient'],
    [500, 'Stream Errored (xml-not-well-formed)', 'badSession', 'badSession'],
    [500, 'Stream Errored (ack)', 'badSession', 'badSession'],
    [500, 'Invalid account signature', 'pairError', 'transient'],
    [500, 'Failed to verify account signature', 'pairError', 'transient'],
    [500, 'Missing device-identity or device in pair success node', 'pairError', 'transient'],
    [500, 'Connection Failure', 'connectionFailure', 'transient'],
    [500, 'Internal Server Error', 'serverError', 'transient'],
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

  it.each<[number, string, CloseCause, string, string]>([
    [408, 'WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)', 'unreachable', 'unreachable', 'network'],
    [408, 'WebSocket Error (Opening handshake has timed out)', 'unreachable', 'unreachable', 'network'],
    [500, 'WebSocket Error (self-signed certificate)', 'tlsError', 'tlsError', 'network'],
    [500, 'WebSocket Error (Invalid Sec-WebSocket-Accept header)', 'tlsError', 'tlsError', 'network'],
    [500, 'WebSocket Error (connect ECONNREFUSED 127.0.0.1:1080)', 'proxyUnreachable', 'proxyUnreachable', 'network'],
    [500, 'WebSocket Error (Invalid WebSocket frame: invalid opcode 3)', 'wsError', 'connectionError', 'transient'],
  ])('code %s %j with cause %s is %s (%s), whatever the code says', (code, message, cause, name, cls) => {
    const m = closeMeaning(code, message, cause)
    expect({ name: m.name, class: m.class }).toEqual({ name, class: cls })
  })

  it('labels a handshake timeout "timed out" and a keep-alive miss "connection lost"', () => {
    expect([closeMeaning(408, 'Timed Out').label, closeMeaning(408, 'Connection was lost').label]).toEqual(['timed out', 'connection lost'])
  })

  it('labels an unknown code with the number', () => {
    expect(closeMeaning(499, 'x').label).toBe('code 499')
  })
})

describe('innerMessage', () => {
  it('unwraps Baileys’ WebSocket Error and leaves other messages as they are', () => {
    expect(innerMessage('WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)')).toBe('getaddrinfo ENOTFOUND web.whatsapp.com')
    expect(innerMessage('Connection was lost')).toBe('Connection was lost')
  })
})
