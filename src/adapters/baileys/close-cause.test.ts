/**
 * Close errors as rc.9 builds them (docs/baileys-rc9.md §1.2, §1.4, §4), read by their wrapped error.
 */
import { Boom } from '@hapi/boom'
import { describe, expect, it } from 'vitest'
import { closeCauseOf, closeDetailOf } from './close-cause.js'

const sys = (message: string, props: Record<string, unknown> = {}) => Object.assign(new Error(message), props)
const ws = (code: number, inner: string, data: unknown) => new Boom(`WebSocket Error (${inner})`, { statusCode: code, data })
class SocksClientError extends Error {}

describe('closeCauseOf', () => {
  it.each<[string, Boom, string | null]>([
    ['DNS', ws(408, 'getaddrinfo ENOTFOUND web.whatsapp.com', sys('getaddrinfo ENOTFOUND web.whatsapp.com', { code: 'ENOTFOUND' })), 'unreachable'],
    ['refused', ws(408, 'connect ECONNREFUSED 127.0.0.1:1', sys('connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED', address: '127.0.0.1', port: 1 })), 'unreachable'],
    ['reset', ws(408, 'read ECONNRESET', sys('read ECONNRESET', { code: 'ECONNRESET' })), 'unreachable'],
    ['handshake timeout', ws(408, 'Opening handshake has timed out', sys('Opening handshake has timed out')), 'unreachable'],
    ['self-signed (500)', ws(500, 'self-signed certificate', sys('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })), 'tlsError'],
    ['unknown CA (500)', ws(500, 'unable to verify the first certificate', sys('unable to verify the first certificate', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })), 'tlsError'],
    ['wrong host (408)', ws(408, "Hostname/IP does not match certificate's altnames", sys('x', { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })), 'tlsError'],
    ['TLS to plain HTTP (408)', ws(408, 'write EPROTO', sys('write EPROTO', { code: 'EPROTO' })), 'tlsError'],
    ['bad accept (500, no code)', ws(500, 'Invalid Sec-WebSocket-Accept header', sys('Invalid Sec-WebSocket-Accept header')), 'tlsError'],
    ['SOCKS proxy down (500)', ws(500, 'connect ECONNREFUSED 127.0.0.1:1080', new SocksClientError('connect ECONNREFUSED 127.0.0.1:1080')), 'proxyUnreachable'],
    ['SOCKS target refused', ws(500, 'Socks5 proxy rejected connection - ConnectionRefused', new SocksClientError('Socks5 proxy rejected connection - ConnectionRefused')), 'unreachable'],
    ['ws protocol error after open (500)', ws(500, 'Invalid WebSocket frame: invalid opcode 3', Object.assign(new RangeError('Invalid WebSocket frame: invalid opcode 3'), { code: 'WS_ERR_INVALID_OPCODE' })), 'wsError'],
    ['a message-only close', new Boom('WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)', { statusCode: 408 }), 'unreachable'],
    ['a stream error', new Boom('Stream Errored (xml-not-well-formed)', { statusCode: 500, data: { tag: 'xml-not-well-formed', attrs: {} } }), null],
    ['a keep-alive loss', new Boom('Connection was lost', { statusCode: 408 }), null],
  ])('%s → %s', (_, err, cause) => {
    expect(closeCauseOf(err, null)).toBe(cause)
  })

  it('names the instance’s HTTP proxy by the address or host in the error', () => {
    const proxy = { host: '127.0.0.1', port: 3128 }
    const refused = ws(408, 'connect ECONNREFUSED 127.0.0.1:3128', sys('connect ECONNREFUSED 127.0.0.1:3128', { code: 'ECONNREFUSED', address: '127.0.0.1', port: 3128 }))
    expect([closeCauseOf(refused, proxy), closeCauseOf(refused, null)]).toEqual(['proxyUnreachable', 'unreachable'])
    const dns = ws(408, 'getaddrinfo ENOTFOUND proxy.example', sys('getaddrinfo ENOTFOUND proxy.example', { code: 'ENOTFOUND', hostname: 'proxy.example' }))
    expect(closeCauseOf(dns, { host: 'proxy.example', port: 3128 })).toBe('proxyUnreachable')
  })
})

describe('closeDetailOf', () => {
  it.each<[string, unknown, string | null]>([
    ['an unlink on the phone', { tag: 'conflict', attrs: { type: 'device_removed' } }, 'conflict:device_removed'],
    ['another client', { tag: 'conflict', attrs: { type: 'replaced' } }, 'conflict:replaced'],
    ['a stream error node', { tag: 'xml-not-well-formed', attrs: {} }, 'xml-not-well-formed'],
    ['a 515', { tag: 'stream:error', attrs: { code: '515' } }, 'code 515'],
    ['a temporary ban', { reason: '402', location: 'frc', code: '101', expire: '86400' }, 'reason 402, code 101, expires in 86400s, at frc'],
    ['a lock', { reason: '403', logout_message_header: 'Your account is locked', logout_message_subtext: 'Verify it' }, 'reason 403, Your account is locked, Verify it'],
    ['a wrapped system error', sys('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate'],
    ['a timeout', { stack: 'Error: Timed Out' }, null],
    ['no data', null, null],
  ])('%s → %j', (_, data, detail) => {
    expect(closeDetailOf(new Boom('x', { statusCode: 500, data }))).toBe(detail)
  })
})
