/**
 * A real hub as its own process (`src/app/main.ts`, exactly `npm start`) on 127.0.0.1 with a
 * random port: what the crash, lock and soak suites kill with SIGKILL and start again.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { until } from './wait.js'

export const PROC_ADMIN = 'admin-token-for-tests-000000'

export interface HubProcess {
  child: ChildProcess
  pid: number
  out(): string
  err(): string
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>
  /** Resolves with the port once the hub listens; null when it exited first. */
  listening(ms?: number): Promise<number | null>
  kill9(): Promise<void>
  /** SIGTERM and wait: a clean stop. */
  stop(): Promise<number | null>
}

/** `inspect` opens the V8 inspector on a loopback port (heap.ts measures the heap through it). */
export function spawnHub(dir: string, env: Record<string, string> = {}, opts: { inspect?: boolean } = {}): HubProcess {
  const child = spawn(process.execPath, [...(opts.inspect ? ['--inspect=127.0.0.1:0'] : []), '--import', 'tsx', 'src/app/main.ts'], {
    env: {
      ...process.env,
      HUB_PORT: '0',
      HUB_HOST: '127.0.0.1',
      HUB_DATA_DIR: dir,
      HUB_LOG_LEVEL: 'info',
      HUB_ADMIN_TOKEN: PROC_ADMIN,
      HUB_RATE_LIMIT_PER_MIN: '1000000',
      HUB_CREATE_RATE_LIMIT_PER_MIN: '1000000',
      HUB_UNAUTH_RATE_LIMIT_PER_MIN: '1000000',
      ...env,
    },
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (err += d))
  let gone = false
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (code) => {
      gone = true
      r(code)
    }),
  )
  return {
    child,
    pid: child.pid!,
    out: () => out,
    err: () => err,
    exited,
    async listening(ms = 30_000) {
      const port = () => {
        const line = out.split('\n').find((l) => l.includes('"msg":"statushub listening"'))
        return line === undefined ? undefined : /"port":(\d+)/.exec(line)?.[1]
      }
      await until(() => port() !== undefined || gone, { ms, message: () => `hub neither listened nor exited in ${ms} ms: ${out} ${err}` })
      const m = port()
      return m === undefined ? null : Number(m)
    },
    async kill9() {
      if (!gone) child.kill('SIGKILL')
      await exited
    },
    async stop() {
      if (!gone) child.kill('SIGTERM')
      return exited
    },
  }
}

export interface Answer {
  status: number
  json: any
}

/** One REST call; the body, when given, is JSON. */
export async function call(port: number, method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await r.text()
  let json: any = null
  try {
    json = JSON.parse(text)
  } catch {
    json = { unparsed: text }
  }
  return { status: r.status, json }
}
