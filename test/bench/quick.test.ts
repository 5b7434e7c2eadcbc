/**
 * The bench's smoke test: `npm run bench -- --quick` runs every scenario once, small and short,
 * and each must produce numbers. Nothing here asserts a speed (machines differ and a timing
 * assert would be flaky): it keeps the bench from rotting while src/ changes. It needs neither
 * wrk (autocannon is the fallback) nor taskset.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SCENARIOS, type BenchReport } from '../../bench/run.js'

const dir = mkdtempSync(join(tmpdir(), 'statushub-bench-smoke-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function runQuick(out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out], {
      cwd: join(import.meta.dirname, '../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`bench --quick exited with ${code}:\n${output.slice(-4000)}`))))
  })
}

describe('bench --quick', () => {
  it('runs every scenario, and every scenario reports finite numbers and a headline', { timeout: 240_000 }, async () => {
    const out = join(dir, 'quick.json')
    await runQuick(out)
    const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport

    expect(report.quick).toBe(true)
    expect(Object.keys(report.scenarios).sort()).toEqual(Object.keys(SCENARIOS).sort())
    for (const [name, s] of Object.entries(report.scenarios)) {
      const numbers = Object.entries(s.numbers)
      expect(numbers.length, `${name} reported no numbers`).toBeGreaterThan(0)
      for (const [key, value] of numbers) expect(Number.isFinite(value), `${name}.${key} is ${value}`).toBe(true)
    }
    expect(report.headline.length).toBeGreaterThan(0)
    for (const h of report.headline) expect(Number.isFinite(h.median), `headline "${h.figure}" is ${h.median}`).toBe(true)
  })
})
