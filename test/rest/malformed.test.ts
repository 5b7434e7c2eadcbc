import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInstances, startTestHub, type TestHub } from '../helpers/hub.js'
import { upgradeStatus } from '../helpers/ws.js'

let h: TestHub
let listBefore: string

beforeAll(async () => {
  h = await startTestHub()
  await createInstances(h, ['sales'])
  listBefore = (await h.req('GET', '/api/instance/list')).text
})
afterAll(() => h.stop())

const cases: [string, string, string, { raw?: string; body?: unknown; token?: null }, number, string][] = [
  ['bad JSON', 'POST', '/api/instance/new', { raw: '{"name":' }, 400, 'Invalid request body'],
  ['a JSON array', 'POST', '/api/instance/new', { raw: '[1,2]' }, 400, 'Invalid request body'],
  ['a JSON string', 'POST', '/api/instance/new', { raw: '"sales"' }, 400, 'Invalid request body'],
  ['a missing name', 'POST', '/api/instance/new', { body: {} }, 400, 'Invalid field "name": Invalid input: expected string, received undefined'],
  ['a name with a space', 'POST', '/api/instance/new', { body: { name: 'a b' } }, 400, 'Invalid field "name": must be 1–64 of A-Z a-z 0-9 _ . -'],
  ['a 65-character name', 'POST', '/api/instance/new', { body: { name: 'x'.repeat(65) } }, 400, 'Invalid field "name": must be 1–64 of A-Z a-z 0-9 _ . -'],
  ['a wrong type', 'POST', '/api/instance/new', { body: { name: 'ok', keepOnlineStatus: 'yes' } }, 400, 'Invalid field "keepOnlineStatus": Invalid input: expected boolean, received string'],
  ['an unknown field', 'POST', '/api/instance/new', { body: { name: 'ok', colour: 'red' } }, 400, 'Unknown field "colour"'],
  ['a bad webhook URL', 'POST', '/api/instance/new', { body: { name: 'ok', webhookURL: 'ftp://x' } }, 400, 'Invalid field "webhookURL": must be an http(s) URL'],
  ['a duplicate name', 'POST', '/api/instance/new', { body: { name: 'sales' } }, 409, 'Instance name already in use'],
  ['an unknown websocket event', 'POST', '/api/events/websocket/sales', { body: { enabled: true, events: ['nope'] } }, 400, 'Invalid field "events.0": Invalid option: expected one of "message.exchange"|"message.status"|"call.update"|"group.flow"|"instance.state"|"label.update"'],
  ['an enabled proxy without host', 'POST', '/api/instance/proxy/sales', { body: { enabled: true } }, 400, 'Invalid field "host": host and port are required when the proxy is enabled'],
  ['an unknown route', 'GET', '/api/nothing/here', {}, 404, 'Not found'],
  ['a wrong method on the list', 'POST', '/api/instance/list', {}, 405, 'Method not allowed'],
  ['a wrong method on create', 'GET', '/api/instance/new', {}, 405, 'Method not allowed'],
  ['a wrong method on delete', 'POST', '/api/instance/delete/sales', {}, 405, 'Method not allowed'],
  ['an unknown instance', 'GET', '/api/instance/getProxy/ghost', {}, 404, 'Instance not found'],
  ['a wrong method on /healthz', 'POST', '/healthz', {}, 405, 'Method not allowed'],
  ['a malformed escape in a path parameter', 'GET', '/api/instance/getProxy/%E0%A4%A', {}, 404, 'Instance not found'],
  ['a malformed escape without a token', 'GET', '/api/instance/getProxy/%E0%A4%A', { token: null }, 401, 'Missing token in header, Authorization header, or query parameter'],
  ['an account id that is not a number', 'DELETE', '/api/admin/accounts/abc', {}, 403, 'Admin token required'],
]

describe('malformed requests', () => {
  it.each(cases)('%s gets %s %s → %i "%s" in the error envelope', async (_name, method, path, opts, status, message) => {
    const r = await h.req(method, path, opts)
    expect(r.status).toBe(status)
    expect(r.headers.get('content-type')).toBe('application/json')
    expect(r.json).toEqual({ success: false, error: { message } })
  })

  it('refuses a body over 64 KiB with 400 and keeps serving', async () => {
    const r = await h.req('POST', '/api/instance/new', { raw: JSON.stringify({ name: 'big', callRejectMessage: 'x'.repeat(70 * 1024) }) })
    expect(r.status).toBe(400)
    expect(r.json).toEqual({ success: false, error: { message: 'Invalid request body' } })
    expect((await h.req('GET', '/healthz', { token: null })).json).toEqual({ success: true, status: 'ok' })
  })

  /** Writes `raw` on a fresh connection and collects everything until the hub closes it. */
  const exchange = (raw: string) =>
    new Promise<string>((resolve, reject) => {
      let got = ''
      const s = connect(h.port, '127.0.0.1', () => s.write(raw))
      s.on('data', (d) => (got += d))
      s.on('close', () => resolve(got))
      s.on('error', reject)
    })

  it.each([
    ['two different Content-Length headers', 'Content-Length: 2\r\nContent-Length: 43'],
    ['two equal Content-Length headers', 'Content-Length: 43\r\nContent-Length: 43'],
    ['a Content-Length that is not a number', 'Content-Length: 2, 43'],
    ['Content-Length beside Transfer-Encoding', 'Content-Length: 43\r\nTransfer-Encoding: chunked'],
  ])('drops a request with %s unanswered, so the request smuggled behind its body never runs', async (_what, framing) => {
    const smuggled = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
    const answer = await exchange(`POST /api/instance/new HTTP/1.1\r\nHost: x\r\ntoken: ${h.token}\r\n${framing}\r\n\r\n{}${smuggled}`)
    expect(answer).toBe('')
    expect((await h.req('GET', '/healthz', { token: null })).status).toBe(200)
  })

  it('survives a client that hangs up in the middle of a body', async () => {
    await new Promise<void>((resolve) => {
      const s = connect(h.port, '127.0.0.1', () => {
        s.write(`POST /api/instance/new HTTP/1.1\r\nHost: x\r\ntoken: ${h.token}\r\nContent-Length: 1000\r\n\r\n{"name":"half`, () => s.destroy())
      })
      s.on('close', () => resolve())
    })
    expect((await h.req('GET', '/healthz', { token: null })).status).toBe(200)
    expect((await h.req('GET', '/api/instance/list?instanceName=half')).status).toBe(404)
  })

  it('answers a WebSocket upgrade to /ws/ with a malformed escape, without a token, with 401', async () => {
    const r = await upgradeStatus(h, '/ws/%E0%A4%A', {})
    expect(r.status).toBe(401)
    expect(JSON.parse(r.body)).toEqual({ success: false, error: { message: 'Missing token in header, Authorization header, or query parameter' } })
  })

  it('survives garbage on the socket', async () => {
    await new Promise<void>((resolve) => {
      const s = connect(h.port, '127.0.0.1', () => {
        s.end('\x00\x01NOT HTTP AT ALL\r\n\r\n')
        s.on('close', () => resolve())
        s.on('error', () => resolve())
      })
    })
    expect((await h.req('GET', '/healthz', { token: null })).status).toBe(200)
  })

  it('changed nothing: the list is byte-identical after every refused request', async () => {
    expect((await h.req('GET', '/api/instance/list')).text).toBe(listBefore)
  })
})
