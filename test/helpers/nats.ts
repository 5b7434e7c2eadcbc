/**
 * A private nats-server (Debian's package, JetStream on) for cluster tests: 127.0.0.1 only, a port
 * the OS picks on the first start, a store in a fresh temp folder. `stop` (SIGTERM), `kill9`
 * (SIGKILL) and `restart` keep the port and the store, as an operator's restart does; `dispose`
 * kills it and removes the store. Every server still running when the test process exits is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { natsServerBinary } from '../../src/app/loopback.js'
import { until } from './wait.js'

export { NATS_INSTALL, natsServerBinary } from '../../src/app/loopback.js'

export interface NatsServer {
  /** `nats://127.0.0.1:<port>`; stays the same across restarts. */
  readonly url: string
  readonly port: number
  readonly storeDir: string
  readonly running: boolean
  /** Starts it again on the same port and store (no-op while running); resolves when it accepts connections. */
  start(): Promise<void>
  /** SIGTERM: a clean shutdown; resolves when the process is gone. */
  stop(): Promise<void>
  /** SIGKILL: a crash; resolves when the process is gone. */
  kill9(): Promise<void>
  /** stop() (if running) then start(). */
  restart(): Promise<void>
  /** Kills it and removes the store folder. */
  dispose(): Promise<void>
  /** Everything the server printed since it was created (for failure messages). */
  output(): string
}

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL')
})

export async function startNatsServer(opts: { readyMs?: number } = {}): Promise<NatsServer> {
  const binary = natsServerBinary()
  const storeDir = mkdtempSync(join(tmpdir(), 'statushub-nats-'))
  const readyMs = opts.readyMs ?? 15_000
  let out = ''
  let port = -1
  let proc: ChildProcess | null = null
  let exited: Promise<void> = Promise.resolve()

  const launch = async (): Promise<void> => {
    // -p -1: the OS picks a free port on the first start; later starts reuse it.
    const child = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: ['ignore', 'pipe', 'pipe'] })
    proc = child
    running.add(child)
    let started = ''
    const onData = (d: Buffer) => {
      out += d
      started += d
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        running.delete(child)
        if (proc === child) proc = null
        resolve()
      })
    })
    await until(() => /Server is ready/.test(started) || child.exitCode !== null || child.signalCode !== null, {
      what: 'nats-server to be ready',
      ms: readyMs,
      detail: () => out.slice(-2000),
    })
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nats-server exited (${child.exitCode ?? child.signalCode}): ${out.slice(-2000)}`)
    const m = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(started)
    if (m === null) throw new Error(`nats-server did not say where it listens: ${out.slice(-2000)}`)
    port = Number(m[1])
    await until(() => accepts(port), { what: `nats-server to accept connections on ${port}`, ms: readyMs })
  }

  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    const p = proc
    if (p === null) return
    const gone = exited
    p.kill(sig)
    await gone
  }

  await launch()
  const server: NatsServer = {
    get url() {
      return `nats://127.0.0.1:${port}`
    },
    get port() {
      return port
    },
    storeDir,
    get running() {
      return proc !== null
    },
    async start() {
      if (proc === null) await launch()
    },
    stop: () => signal('SIGTERM'),
    kill9: () => signal('SIGKILL'),
    async restart() {
      await signal('SIGTERM')
      await launch()
    },
    async dispose() {
      await signal('SIGKILL')
      rmSync(storeDir, { recursive: true, force: true })
    },
    output: () => out,
  }
  return server
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}
