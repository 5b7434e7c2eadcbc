/**
 * The hub as its own process (`src/app/main.ts` under tsx), for tests that kill it: `kill -9`
 * leaves no flush and no clean-shutdown mark, exactly as a crash does.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { ADMIN } from './hub.js'
import { until } from './wait.js'

export interface HubProcess {
  child: ChildProcessWithoutNullStreams
  port: number
  base: string
  /** The `default` account's token: printed on a first start, or the one passed in. */
  token: string
  out(): string
  /** SIGKILL, and wait until the process is gone. */
  kill9(): Promise<void>
  /** SIGTERM (a clean shutdown), and wait for the exit code. */
  stop(): Promise<number | null>
}

export async function spawnHub(dir: string, env: Record<string, string> = {}, token?: string): Promise<HubProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], {
    env: {
      ...process.env,
      HUB_HOST: '127.0.0.1',
      HUB_PORT: '0',
      HUB_DATA_DIR: dir,
      HUB_LOG_LEVEL: 'info',
      HUB_ADMIN_TOKEN: ADMIN,
      HUB_RATE_LIMIT_PER_MIN: '100000',
      HUB_CREATE_RATE_LIMIT_PER_MIN: '100000',
      HUB_UNAUTH_RATE_LIMIT_PER_MIN: '100000',
      ...env,
    },
  })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  await until(() => /"port":(\d+)/.test(out) && (token !== undefined || /Try it:/.test(out)) || child.exitCode !== null, { what: 'the hub to listen', ms: 30_000, detail: () => out })
  if (child.exitCode !== null) throw new Error(`the hub exited with ${child.exitCode}: ${out}`)
  const port = Number(/"port":(\d+)/.exec(out)![1])
  return {
    child,
    port,
    base: `http://127.0.0.1:${port}`,
    token: token ?? /Account "default" token \(shown once\): (\S+)/.exec(out)![1]!,
    out: () => out,
    async kill9() {
      child.kill('SIGKILL')
      await exit
    },
    async stop() {
      child.kill('SIGTERM')
      return exit
    },
  }
}
