/**
 * What uWebSockets.js refuses, as the README's "Behind a reverse proxy" documents it: HTTP/1.0 and
 * requests without `Host` get no answer at all, and a request pipelined behind one answered
 * asynchronously ends the connection. These tests keep the README honest when uWS is upgraded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInstances, startTestHub, type TestHub } from '../helpers/hub.js'
import { exchange, responses } from './raw.js'

let h: TestHub
beforeAll(async () => {
  h = await startTestHub({ HUB_WHATSAPP: 'simulated' }, { whatsapp: {} })
  await createInstances(h, ['sales'])
})
afterAll(() => h.stop())

describe('uWebSockets.js limits (documented in the README)', () => {
  // Concurrent: each waits for uWS's ten-second timeout.
  it.concurrent.each([
    ['HTTP/1.0', 'GET /healthz HTTP/1.0\r\n\r\n'],
    ['HTTP/1.0 with Host', 'GET /healthz HTTP/1.0\r\nHost: hub\r\n\r\n'],
    ['HTTP/1.1 without Host', 'GET /healthz HTTP/1.1\r\n\r\n'],
  ])('never answers %s: the hub closes the connection without sending a byte', async (_what, request) => {
    const raw = await exchange(h.port, request, 25_000)
    expect(raw).toEqual({ text: '', ended: 'closed' })
  })

  it('answers pipelined requests whose handlers answer at once', async () => {
    const raw = await exchange(h.port, 'GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\nHEAD /healthz HTTP/1.1\r\nHost: hub\r\n\r\nGET /healthz HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n')
    expect(raw.ended).toBe('closed')
    expect(responses(raw.text, ['GET', 'HEAD', 'GET']).map((r) => [r.status, r.body])).toEqual([
      [200, '{"success":true,"status":"ok"}'],
      [200, ''],
      [200, '{"success":true,"status":"ok"}'],
    ])
  })

  it('closes a connection that pipelines a request behind one answered asynchronously, losing every answer on it', async () => {
    const connect = `GET /api/instance/connect/sales HTTP/1.1\r\nHost: hub\r\ntoken: ${h.token}\r\n\r\n`
    const raw = await exchange(h.port, `GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n${connect}GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n`)
    expect(raw).toEqual({ text: '', ended: 'closed' })
    // Alone on its connection, the same request is answered.
    const alone = await exchange(h.port, connect.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'))
    const [answer] = responses(alone.text, ['GET'])
    expect(answer!.status).toBe(200)
    expect(JSON.parse(answer!.body)).toMatchObject({ success: true, message: 'QR code generated', status: 'qr' })
  })
})
