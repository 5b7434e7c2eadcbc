/**
 * @module `npm run bench:ab -- <old checkout> [--new <checkout>] [--only rest,fanout] [--rounds 3]`:
 * the same scenarios against the hub of another checkout (old) and of this one, or of `--new`, in interleaved
 * rounds (old, new, old, new, …), and the new/old ratio of each headline figure's median. The old
 * checkout needs its own node_modules (a symlink to this one's works while the lockfile matches).
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { runBench } from './run.js'
import { ROOT } from './lib/proc.js'
import { renderTable } from './lib/table.js'
import { spread } from './lib/stats.js'

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { new: { type: 'string' }, only: { type: 'string', default: 'rest,fanout' }, rounds: { type: 'string', default: '3' } } })
  const old = positionals[0]
  if (old === undefined) throw new Error('usage: npm run bench:ab -- <old checkout> [--only rest,fanout] [--rounds 3]')
  const builds = { old: resolve(old), new: values.new === undefined ? ROOT : resolve(values.new) }
  const only = values.only!.split(',')
  const figures = new Map<string, { old: number[]; new: number[] }>()
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const which of ['old', 'new'] as const) {
      console.log(`\n### round ${round}: ${which} (${builds[which]})`)
      process.env.BENCH_HUB_ROOT = builds[which]
      const report = await runBench({ quick: false, only, rounds: 1, log: () => {} })
      if (report.failed.length > 0) throw new Error(`${which}: ${report.failed.map((f) => f.error).join('; ')}`)
      for (const h of report.headline) {
        // A figure whose name carries a measured reference (`(bare uWS: 63.1 ms)`) pairs by the rest of it.
        const key = h.figure.replace(/ \(bare uWS: [^)]*\)/, '')
        const f = figures.get(key) ?? { old: [], new: [] }
        f[which].push(h.median)
        figures.set(key, f)
        console.log(`  ${h.figure}: ${h.value}`)
      }
    }
  }
  const rows = [...figures].map(([figure, v]) => {
    const ratio = spread(v.new).median / spread(v.old).median
    return [figure, v.old.map((x) => x.toPrecision(4)).join(' · '), v.new.map((x) => x.toPrecision(4)).join(' · '), ratio.toFixed(3), ratio >= 0.9 && ratio <= 1.1 ? 'yes' : 'NO']
  })
  console.log('\n' + renderTable({ title: 'new / old, by the median of each headline figure', headers: ['figure', 'old (each round)', 'new (each round)', 'new/old', 'within 0.9–1.1'], align: ['l', 'r', 'r', 'r', 'l'], rows }))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
