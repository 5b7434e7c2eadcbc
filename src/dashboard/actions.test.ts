import { describe, expect, it } from 'vitest'
import { ACTIONS, applies, confirmation, request } from './actions.js'
import type { Api } from './api.js'
import { itemOf } from './test-items.js'

const CLOSED = { code: 428, name: 'connectionClosed', message: 'Connection Terminated' }
const offered = (...args: Parameters<typeof itemOf>) => ACTIONS.filter((a) => applies(a, itemOf(...args)))

describe('actions by state', () => {
  it('offers only what applies', () => {
    expect(offered('a', { state: 'connected' })).toEqual(['logout', 'delete', 'sim-drop'])
    expect(offered('a', { state: 'disconnected' })).toEqual(['connect', 'reconnect', 'logout', 'delete'])
    expect(offered('a', { state: 'loggedout' })).toEqual(['connect', 'delete'])
    expect(offered('a', { state: 'connecting', reason: CLOSED, retryAt: '2025-01-01T00:00:05.000Z' })).toEqual(['reconnect', 'logout', 'delete'])
    expect(offered('a', { state: 'connecting' })).toEqual(['connect', 'logout', 'delete', 'sim-scan'])
  })

  it('asks before what cannot be undone', () => {
    expect(ACTIONS.map((a) => confirmation(a, 'sales') !== null)).toEqual([false, false, true, true, false, false])
    expect(confirmation('delete', 'sales')).toBe('Delete sales? Its session and token are gone for good.')
  })

  it('sends each request to its route, the name as a path segment', async () => {
    const sent: string[] = []
    const api: Api = async (method, path, body) => {
      sent.push(`${method} ${path}${body === undefined ? '' : ` ${JSON.stringify(body)}`}`)
      return {}
    }
    for (const a of ['reconnect', 'logout', 'delete', 'sim-scan', 'sim-drop'] as const) await request(api, a, 'a/b')
    expect(sent).toEqual([
      'POST /api/instance/reconnect/a%2Fb',
      'DELETE /api/instance/logout/a%2Fb',
      'DELETE /api/instance/delete/a%2Fb',
      'POST /api/sim/a%2Fb/scan',
      'POST /api/sim/a%2Fb/close {"code":428,"message":"Connection Terminated"}',
    ])
  })
})
