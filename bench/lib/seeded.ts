/**
 * @module Data directories seeded with N fixture instances (accounts of 100), made once per run
 * through the hub itself and shared by the restart and memory scenarios.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { BenchContext } from './context.js'
import { SERVER_CORE, startWorker } from './proc.js'

export const PER_ACCOUNT = 100

const made = new Map<string, Promise<{ dir: string; seedMs: number }>>()

export function seededDir(ctx: BenchContext, instances: number): Promise<{ dir: string; seedMs: number }> {
  const dir = join(ctx.tmp, `seeded-${instances}`)
  let p = made.get(dir)
  if (p === undefined) {
    p = (async () => {
      mkdirSync(dir, { recursive: true })
      ctx.log(`  seeding ${instances.toLocaleString('en-US')} instances…`)
      const w = await startWorker('bench/hub-process.ts', {
        core: SERVER_CORE,
        env: { BENCH_DATA_DIR: dir, BENCH_ACCOUNTS: String(Math.ceil(instances / PER_ACCOUNT)), BENCH_PER_ACCOUNT: String(Math.min(PER_ACCOUNT, instances)) },
        readyTimeoutMs: 15 * 60_000,
      })
      const seedMs = Number(w.ready.seedMs)
      await w.stop()
      return { dir, seedMs }
    })()
    made.set(dir, p)
  }
  return p
}
