/**
 * `npm run test:crash`: 20 rounds of kill -9 while writes flow, asserting everything the short
 * pass does and the amended stream contract: `seq` per account and `version` per instance never
 * go backwards, across epochs too (a new epoch starts above every value that may have been shown).
 * CRASH_ROUNDS and CRASH_SEED override the round count and the seed.
 */
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/hub.js'
import { crashRounds } from './harness.js'

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 20)
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1e9)

describe(`kill -9 while writes flow (${ROUNDS} rounds)`, () => {
  it('keeps the database intact, every acknowledged write and no deleted instance; each restart is a new epoch, and seq and version never go backwards', async () => {
    console.log(`crash suite: seed ${SEED}`)
    const reports = await crashRounds({ dir: tempDir(), rounds: ROUNDS, killAfterMs: [100, 2000], seed: SEED, log: (l) => console.log(l) })
    expect(reports).toHaveLength(ROUNDS)
    for (const r of reports) {
      expect(r.acked.creates + r.acked.settings + r.acked.statusChanges, `round ${r.round}: writes flowed`).toBeGreaterThan(0)
      expect({ round: r.round, integrity: r.integrity, lost: r.lost, resurrected: r.resurrected, wrongSettings: r.wrongSettings }).toEqual({
        round: r.round,
        integrity: 'ok',
        lost: [],
        resurrected: [],
        wrongSettings: [],
      })
      expect(r.epochAfter).not.toBe(r.epochBefore)
      expect(r.resume).toEqual({ type: 'snapshot', recovered: false, epoch: r.epochAfter })
    }
    // The amended contract, checked over every round at the end so the report above is complete.
    expect(reports.filter((r) => r.firstSeqAfter <= r.seqShown).map((r) => ({ round: r.round, seqShown: r.seqShown, firstSeqAfter: r.firstSeqAfter }))).toEqual([])
    expect(reports.filter((r) => r.versionsBack.length > 0).map((r) => ({ round: r.round, versionsBack: r.versionsBack.slice(0, 5) }))).toEqual([])
  }, 30 * 60_000)
})
