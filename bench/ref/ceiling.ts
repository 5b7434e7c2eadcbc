/**
 * @module REST reference (a): the ceiling. A bare uWebSockets.js handler that answers with the
 * exact bytes the hub served, from prebuilt Buffers: no token check, no lookup, no cache, no
 * extra headers. `?instanceName=` picks the one-instance body, `/api/v1/...` the Wachat one, and
 * a matching `If-None-Match` gets a bare 304.
 *
 * Environment: BENCH_BODIES, a JSON file `{full, one, wachat: <path>, etag}`.
 */
import { readFileSync } from 'node:fs'
import type { HttpRequest, HttpResponse } from 'uWebSockets.js'
import { loadUws } from '../../src/edges/http/load.js'
import { sendFatal, sendReady, serveRequests } from '../lib/proc.js'

async function main(): Promise<void> {
  const spec = JSON.parse(readFileSync(process.env.BENCH_BODIES!, 'utf8')) as { full: string; one: string; wachat: string; etag: string }
  const full = readFileSync(spec.full)
  const one = readFileSync(spec.one)
  const wachat = readFileSync(spec.wachat)
  const uWS = loadUws()
  const app = uWS.App()
  const answer = (res: HttpResponse, req: HttpRequest, body: Buffer) => {
    if (req.getHeader('if-none-match') === spec.etag) {
      res.cork(() => res.writeStatus('304 Not Modified').endWithoutBody())
      return
    }
    res.cork(() => res.writeHeader('Content-Type', 'application/json').end(body))
  }
  app.get('/api/instance/list', (res, req) => answer(res, req, req.getQuery('instanceName') === undefined ? full : one))
  app.get('/api/v1/instance/list', (res, req) => answer(res, req, wachat))
  const port = await new Promise<number>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (ls) => (ls ? resolve(uWS.us_socket_local_port(ls)) : reject(new Error('listen failed')))),
  )
  serveRequests({ exit() {} })
  sendReady({ port })
}

main().catch(sendFatal)
