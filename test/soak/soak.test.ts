/**
 * A short soak (`npm run soak` runs SOAK_SECONDS, default 120, with more clients; soak.long.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { soak } from './soak.js'

const MB = 1024 * 1024

describe('soak (8 s)', () => {
  it('ends with every client mirror equal to the list after flapping, cuts and stalls, and the hub\'s heap back near its start', async () => {
    const r = await soak({ seconds: 8, flappers: 10, relays: 3, clientsPerRelay: 2, seed: Date.now() % 1e9 })
    expect(r.mismatched).toEqual([])
    expect(r.changes).toBeGreaterThan(0)
    expect(r.cuts).toBeGreaterThan(0)
    expect(r.heapEnd - r.heapStart).toBeLessThan(24 * MB)
  }, 120_000)
})
