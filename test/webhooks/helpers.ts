/**
 * Shared by the webhook tests: a hub that may deliver to 127.0.0.1 and retries fast (the retry
 * delays are real configuration), the deliveries list, and the hub as its own process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { startTestHub, type TestHub } from '../helpers/hub.js'
import { until } from '../helpers/wait.js'

export const FAST = { HUB_WEBHOOK_ALLOW_PRIVATE: 'true', HUB_WEBHOOK_RETRY_BASE_MS: '20', HUB_WEBHOOK_RETRY_MAX_MS: '100' }

export function webhookHub(env: Record<string, string> = {}, opts: Parameters<typeof startTestHub>[1] = {}): Promise<TestHub> {
  return startTestHub({ ...FAST, ...env }, opts)
}

export interface DeliveryJson {
  id: string
  label: string
  event: string
  seq: number
  version: number
  status: 'pending' | 'delivered' | 'dead'
  attempts: number
  createdAt: string
  lastAttemptAt: string | null
  lastError: string | null
  nextAttemptAt: string | null
}

/** The instance's deliveries, newest first. */
export async function deliveries(h: { req: TestHub['req'] }, instance: string, query = 'limit=500', token?: string): Promise<DeliveryJson[]> {
  const r = await h.req('GET', `/api/events/webhookDeliveries/${instance}?${query}`, token === undefined ? {} : { token })
  if (r.status !== 200) throw new Error(`deliveries ${instance}: ${r.status} ${r.text}`)
  return r.json.deliveries
}

export interface HubProcess {
  child: ChildProcessWithoutNullStreams
  base: string
  token: string
  out: () => string
  req: TestHub['req']
  exited: Promise<number | null>
}

/** Spawns `src/app/main.ts` and waits until it listens; `token` is the account token when none is printed. */
export async function spawnHub(env: NodeJS.ProcessEnv, token?: string): Promise<HubProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], { env })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  const started = () => {
    if (child.exitCode !== null) throw new Error(`the hub did not start: ${out}`)
    return /"port":(\d+)/.test(out) && (token !== undefined || /Try it:/.test(out))
  }
  await until(started, { ms: 20_000, message: () => `the hub did not start: ${out}` })
  const base = `http://127.0.0.1:${/"port":(\d+)/.exec(out)![1]}`
  const tok = token ?? /Account "default" token \(shown once\): (\S+)/.exec(out)![1]!
  const req: TestHub['req'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers }
    const t = o.token === undefined ? tok : o.token
    if (t !== null) headers.token = t
    const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body))
    if (body !== undefined) headers['content-type'] = 'application/json'
    const r = await fetch(base + path, { method, headers, body })
    const text = await r.text()
    let json: any = null
    try {
      json = text === '' ? null : JSON.parse(text)
    } catch {
      json = null
    }
    return { status: r.status, headers: r.headers, json, text }
  }
  return { child, base, token: tok, out: () => out, req, exited }
}
