/**
 * A process that races for a data directory's lock. It prints `ready`, reads one line of start
 * times (epoch ms) from stdin, and for each spins until that instant (sleeping until just before,
 * so the racers line up within a millisecond), tries acquireLock, holds a won lock for `holdMs`,
 * releases it, and prints one JSON line per round with its times. argv: <dataDir> <holdMs>
 */
import { createInterface } from 'node:readline'
import { acquireLock, DataDirLocked } from '../../src/app/data-lock.js'

const [dir, hold] = process.argv.slice(2)
const cell = new Int32Array(new SharedArrayBuffer(4))
const sleep = (ms: number) => ms > 0 && Atomics.wait(cell, 0, 0, ms)

console.log('ready')
const line = await new Promise<string>((r) => createInterface({ input: process.stdin }).once('line', r))
for (const [round, at] of line.split(' ').map(Number).entries()) {
  sleep(at - Date.now() - 3)
  while (Date.now() < at) {
    // spin the last milliseconds
  }
  let out: Record<string, unknown>
  // CLOCK_MONOTONIC in µs: Linux shares it between processes, so the racers' times compare.
  const now = () => Number(process.hrtime.bigint() / 1000n)
  const tried = now()
  try {
    const release = acquireLock(dir!)
    const acquired = now()
    sleep(Number(hold))
    const releasing = now()
    release()
    out = { round, pid: process.pid, won: true, tried, acquired, releasing }
  } catch (err) {
    if (!(err instanceof DataDirLocked)) throw err
    out = { round, pid: process.pid, won: false, owner: err.owner, tried, refused: now() }
  }
  console.log(JSON.stringify(out))
}
process.exit(0)
