/**
 * A short pass of the crash suite (`npm run test:crash` runs 20 rounds; kill9.long.test.ts), with
 * the same checks: seq and version never go backwards across epochs either.
 */
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/hub.js'
import { crashRounds } from './harness.js'

describe('kill -9 while writes flow (3 rounds)', () => {
  it('keeps the database intact, every acknowledged write and no deleted instance; each restart is a new epoch a resuming client hears of, and seq and version never go backwards', async () => {
    const reports = await crashRounds({ dir: tempDir(), rounds: 3, killAfterMs: [300, 1200], seed: Date.now() % 1e9 })
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
  }, 120_000)
})
