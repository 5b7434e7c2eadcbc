import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { acquireLock, DataDirLocked, lockHolder, lockPath } from '../../src/app/data-lock.js'
import { tempDir } from '../helpers/hub.js'
import { until } from '../helpers/wait.js'

const NODE = [process.execPath, '--import', 'tsx']

interface Attempt {
  round: number
  pid: number
  won: boolean
  owner?: number | null
  tried: number
  acquired?: number
  releasing?: number
  refused?: number
}

interface HubProc {
  child: ChildProcess
  out: () => string
  err: () => string
  exited: Promise<number | null>
}

function spawnHub(dir: string): HubProc {
  const child = spawn(NODE[0]!, [...NODE.slice(1), 'src/app/main.ts'], {
    env: { ...process.env, HUB_PORT: '0', HUB_HOST: '127.0.0.1', HUB_DATA_DIR: dir, HUB_LOG_LEVEL: 'info', HUB_ADMIN_TOKEN: 'admin-token-for-tests-000000' },
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (err += d))
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  return { child, out: () => out, err: () => err, exited }
}

/** Resolves with the port once the hub listens, or with null when it exits first. */
async function listening(h: HubProc): Promise<number | null> {
  let gone = false
  void h.exited.then(() => (gone = true))
  const port = () => /"port":(\d+)/.exec(h.out())?.[1]
  await until(() => port() !== undefined || gone, { ms: 30_000, message: () => `hub neither listened nor exited: ${h.out()} ${h.err()}` })
  const m = port()
  return m === undefined ? null : Number(m)
}

describe('one hub per data directory', () => {
  it('refuses a second hub in the same process and names the holder, then lets the next one in after release', () => {
    const dir = tempDir()
    const release = acquireLock(dir)
    try {
      expect(() => acquireLock(dir)).toThrow(DataDirLocked)
      expect(() => acquireLock(dir)).toThrow(`Another hub (pid ${process.pid}) is using ${dir}: it holds the lock on ${join(dir, 'statushub.lock')}. Stop it first, or set HUB_DATA_DIR to another folder.`)
      expect(lockHolder(lockPath(dir))).toBe(process.pid)
    } finally {
      release()
    }
    expect(lockHolder(lockPath(dir))).toBeNull()
    acquireLock(dir)()
  })

  it('creates the lock file readable by its owner only', () => {
    const dir = tempDir()
    acquireLock(dir)()
    expect(statSync(lockPath(dir)).mode & 0o777).toBe(0o600)
  })

  it('comes back at once after kill -9, even with another live process\'s pid in the old pid lock file', async () => {
    const dir = tempDir()
    const first = spawnHub(dir)
    const port = await listening(first)
    expect(port).not.toBeNull()
    first.child.kill('SIGKILL')
    expect(await first.exited).toBeNull()
    // The lock file the dead hub held is still there; a pid-file lock (hub.lock before this one)
    // would now name a live process, as pid reuse in a container does within moments.
    expect(existsSync(lockPath(dir))).toBe(true)
    writeFileSync(join(dir, 'hub.lock'), String(process.pid))
    const second = spawnHub(dir)
    const again = await listening(second)
    expect(again, second.err()).not.toBeNull()
    const r = await fetch(`http://127.0.0.1:${again}/healthz`)
    expect(await r.json()).toEqual({ success: true, status: 'ok' })
    expect(existsSync(join(dir, 'hub.lock'))).toBe(false)
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  }, 60_000)

  it('lets exactly one of two hubs started at the same instant run; the other exits 1 naming it', async () => {
    const dir = tempDir()
    const hubs = [spawnHub(dir), spawnHub(dir)]
    const ports = await Promise.all(hubs.map(listening))
    const winner = ports.findIndex((p) => p !== null)
    expect(ports.filter((p) => p !== null)).toHaveLength(1)
    const loser = hubs[1 - winner]!
    expect(await loser.exited).toBe(1)
    expect(loser.err()).toContain(`Another hub (pid ${hubs[winner]!.child.pid}) is using ${dir}`)
    hubs[winner]!.child.kill('SIGTERM')
    expect(await hubs[winner]!.exited).toBe(0)
  }, 60_000)

  it('never lets two of four processes racing for the lock within the same millisecond hold it at once (20 rounds)', async () => {
    const dir = tempDir()
    const rounds = 20
    const racers = Array.from({ length: 4 }, () => {
      const child = spawn(NODE[0]!, [...NODE.slice(1), 'test/store/lock-racer.ts', dir, '100'])
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      child.stderr.on('data', (d) => (out += d))
      return { child, out: () => out, done: new Promise<void>((r) => child.on('exit', () => r())) }
    })
    await until(() => racers.every((r) => r.out().startsWith('ready\n')), { what: 'four racers ready', ms: 30_000 })
    const t0 = Date.now() + 300
    const starts = Array.from({ length: rounds }, (_, i) => t0 + i * 250).join(' ')
    for (const r of racers) r.child.stdin.write(`${starts}\n`)
    await Promise.all(racers.map((r) => r.done))
    const lines = racers.flatMap((r) =>
      r
        .out()
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => JSON.parse(l) as Attempt),
    )
    expect(lines).toHaveLength(4 * rounds)
    let contended = 0
    for (let round = 0; round < rounds; round++) {
      const these = lines.filter((l) => l.round === round)
      const winners = these.filter((l) => l.won)
      // A racer the machine delayed past the winner's release may win after it, never alongside it.
      for (const a of winners) for (const b of winners) if (a !== b) expect(a.releasing! < b.acquired! || b.releasing! < a.acquired!, `round ${round}: two holders at once`).toBe(true)
      // Every refusal named a holder that did hold the lock while it was refused.
      for (const l of these.filter((x) => !x.won)) {
        const holder = winners.find((w) => w.pid === l.owner)
        expect(holder, `round ${round}: refused by pid ${l.owner}, which did not win`).toBeDefined()
        // (20 ms of slack: the release itself comes just after its timestamp.)
        expect(holder!.tried <= l.refused! && l.tried <= holder!.releasing! + 20_000, `round ${round}: refused outside the holder's hold`).toBe(true)
      }
      if (winners.length < these.length) contended++
    }
    // They really raced: most rounds had someone refused.
    expect(contended).toBeGreaterThan(rounds / 2)
  }, 60_000)
})
