/**
 * @module The machine a run was measured on, recorded with every result.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { availableParallelism, release, totalmem } from 'node:os'
import { loadgenVersion, type LoadgenKind } from './loadgen.js'
import { PINNED, ROOT } from './proc.js'

export interface Machine {
  date: string
  nproc: number
  cpu: string
  memGB: number
  kernel: string
  node: string
  loadgen: string
  pinned: boolean
  commit: string
}

export function machine(loadgen: LoadgenKind): Machine {
  let cpu = 'unknown'
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu
  } catch {}
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' })
  return {
    date: new Date().toISOString(),
    nproc: availableParallelism(),
    cpu,
    memGB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    loadgen: loadgenVersion(loadgen),
    pinned: PINNED,
    commit: git.status === 0 ? git.stdout.trim() : 'unknown',
  }
}
