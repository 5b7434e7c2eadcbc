/**
 * `npm run fuzz` (HTTP half): at least 100,000 malformed requests over raw TCP (http-cases.ts:
 * bodies, headers, methods, paths, chunking, framing, slow bodies, pipelining, non-UTF-8,
 * protocol versions), then clients that pipeline requests and do not read. Every answer in the
 * envelope, never a 5xx or a hang, the hub alive, its data unchanged, its RSS bounded.
 * FUZZ_REQUESTS and FUZZ_SEED override the count and the seed.
 */
import fc from 'fast-check'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROC_ADMIN } from '../helpers/hub-process.js'
import { httpCases, type FuzzCase } from './http-cases.js'
import { runHttpFuzz, type HttpFuzzStats } from './http-driver.js'
import { startFuzzHub, type FuzzHub } from './fixture.js'

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 100_000)
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1e9)
const MB = 1024 * 1024

let f: FuzzHub
beforeAll(async () => {
  f = await startFuzzHub()
})
afterAll(async () => {
  await f.hub.stop()
})

describe('malformed HTTP', () => {
  it(`answers ${REQUESTS.toLocaleString('en-US')} malformed requests in the envelope, below 500, never hangs, changes nothing and keeps its memory bounded`, async () => {
    console.log(`HTTP fuzz: seed ${SEED}`)
    const before = await f.fingerprint()
    const rss0 = f.rss()
    let peak = rss0
    const arb = httpCases({ accountToken: f.accountToken, instanceToken: f.instanceToken, adminToken: PROC_ADMIN, existing: f.existing })
    let stats: HttpFuzzStats | undefined
    for (let batch = 0; (stats?.requests ?? 0) < REQUESTS; batch++) {
      stats = await runHttpFuzz(f.port, fc.sample(arb, { numRuns: 5000, seed: SEED + batch }), { concurrency: 16, hangMs: 10_000, stats })
      peak = Math.max(peak, f.rss())
    }
    const s = stats!
    console.log(
      `HTTP fuzz: ${s.requests} requests in ${s.cases} connections, ${s.answers} answers, ${s.closedUnanswered} closed unanswered by uWS; ` +
        `statuses ${JSON.stringify(s.byStatus)}; by kind ${JSON.stringify(s.byKind)}; RSS ${(rss0 / MB).toFixed(0)} → peak ${(peak / MB).toFixed(0)} → ${(f.rss() / MB).toFixed(0)} MB`,
    )
    expect({ seed: SEED, violationCount: s.violationCount, violations: s.violations }).toEqual({ seed: SEED, violationCount: 0, violations: [] })
    expect(s.requests).toBeGreaterThanOrEqual(REQUESTS)
    expect(s.answers).toBeGreaterThan(s.cases / 2)
    expect(await f.fingerprint()).toBe(before)
    expect(f.hub.child.exitCode).toBeNull()
    expect(peak - rss0).toBeLessThan(96 * MB)
  }, 30 * 60_000)

  it('answers clients that pipeline 200 list requests each and read nothing for two seconds, with its memory bounded', async () => {
    const rss0 = f.rss()
    const one = `GET /api/instance/list HTTP/1.1\r\nHost: 127.0.0.1\r\ntoken: ${f.accountToken}\r\n\r\n`
    const clients = await Promise.all(
      Array.from({ length: 20 }, () =>
        new Promise<net.Socket>((resolve) => {
          const s = net.connect(f.port, '127.0.0.1', () => resolve(s))
          s.pause()
          s.write(one.repeat(200))
        }),
      ),
    )
    // A timed wait on purpose: the two seconds are the scenario (clients that stop reading for a
    // while), not a wait for an event. Nothing outside the hub marks the point where it has
    // written all it will into full socket buffers (uWS just stops at backpressure), so the peak
    // is read after as long as such a client stays silent.
    await new Promise((r) => setTimeout(r, 2000))
    const peak = f.rss()
    const answers = await Promise.all(
      clients.map(
        (s) =>
          new Promise<number>((resolve) => {
            let text = ''
            s.setEncoding('latin1')
            s.on('data', (d) => {
              text += d
              const n = text.split('HTTP/1.1 200 OK').length - 1
              if (n === 200) {
                s.destroy()
                resolve(n)
              }
            })
            s.on('close', () => resolve(text.split('HTTP/1.1 200 OK').length - 1))
            s.resume()
          }),
      ),
    )
    expect(answers).toEqual(Array(20).fill(200))
    expect(peak - rss0).toBeLessThan(64 * MB)
    expect((await fetch(`http://127.0.0.1:${f.port}/healthz`)).status).toBe(200)
  }, 60_000)
})
