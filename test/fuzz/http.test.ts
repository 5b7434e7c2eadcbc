/**
 * A short pass of the HTTP fuzz suite (`npm run fuzz` sends 100,000 requests; http.long.test.ts).
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROC_ADMIN } from '../helpers/hub-process.js'
import { httpCases } from './http-cases.js'
import { runHttpFuzz } from './http-driver.js'
import { startFuzzHub, type FuzzHub } from './fixture.js'

let f: FuzzHub
beforeAll(async () => {
  f = await startFuzzHub()
})
afterAll(async () => {
  await f.hub.stop()
})

describe('malformed HTTP (short pass)', () => {
  it('answers 3,000 malformed requests in the envelope, below 500, never hangs, and changes nothing', async () => {
    const before = await f.fingerprint()
    const arb = httpCases({ accountToken: f.accountToken, instanceToken: f.instanceToken, adminToken: PROC_ADMIN, existing: f.existing })
    const seed = Date.now() % 1e9
    const stats = await runHttpFuzz(f.port, fc.sample(arb, { numRuns: 3000, seed }), { concurrency: 16, hangMs: 10_000 })
    expect({ seed, violations: stats.violations }).toEqual({ seed, violations: [] })
    expect(stats.cases).toBe(3000)
    // Most cases reach the application; uWS closes the rest unanswered (documented).
    expect(stats.answers).toBeGreaterThan(stats.cases / 2)
    expect(await f.fingerprint()).toBe(before)
    expect(f.hub.child.exitCode).toBeNull()
  }, 120_000)
})
