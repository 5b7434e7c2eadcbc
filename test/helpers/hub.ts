/**
 * Starts a real hub on 127.0.0.1 with a random port and a SQLite file in a temp folder.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { startHub, type ComposeOptions, type RunningHub } from '../../src/app/compose.js'
import { loadConfig } from '../../src/app/config.js'
import type { AccountView } from '../../src/hub/model.js'
import type { Clock } from '../../src/ports/clock.js'

export const ADMIN = 'admin-token-for-tests-000000'

export interface TestHub extends RunningHub {
  dir: string
  base: string
  /** The `default` account's TokenAccount. */
  token: string
  req(method: string, path: string, opts?: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<Res>
}

export interface Res {
  status: number
  headers: Headers
  json: any
  text: string
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'statushub-test-'))
}

export async function startTestHub(
  env: Record<string, string> = {},
  opts: { dir?: string; clock?: Clock; whatsapp?: ComposeOptions['whatsapp']; dashboardDir?: string | null; token?: string } = {},
): Promise<TestHub> {
  const dir = opts.dir ?? tempDir()
  const cfg = loadConfig({
    HUB_HOST: '127.0.0.1',
    HUB_PORT: '0',
    HUB_DATA_DIR: dir,
    HUB_LOG_LEVEL: 'silent',
    HUB_ADMIN_TOKEN: ADMIN,
    HUB_RATE_LIMIT_PER_MIN: '100000',
    HUB_CREATE_RATE_LIMIT_PER_MIN: '100000',
    HUB_UNAUTH_RATE_LIMIT_PER_MIN: '100000',
    ...env,
  })
  const log = pino({ level: 'silent' })
  const running = await startHub(cfg, { log, clock: opts.clock, whatsapp: opts.whatsapp ?? null, dashboardDir: opts.dashboardDir ?? null })
  const base = `http://127.0.0.1:${running.port}`
  const token = running.first.defaultAccountToken ?? opts.token ?? ''
  const req: TestHub['req'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers }
    const t = o.token === undefined ? token : o.token
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
  return { ...running, dir, base, token, req }
}

/** Creates instances through the API and returns their tokens by name. */
export async function createInstances(h: TestHub, names: string[], token = h.token): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of names) {
    const r = await h.req('POST', '/api/instance/new', { token, body: { name } })
    if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${r.text}`)
    out[name] = r.json.instance.token
  }
  return out
}

export function accountNamed(h: TestHub, name = 'default'): AccountView {
  const account = h.hub.accountNamed(name)
  if (account === undefined) throw new Error(`no account ${name}`)
  return account
}

export function instanceId(h: TestHub, name: string, accountName = 'default'): number {
  const inst = h.hub.lookup(accountNamed(h, accountName).id, name)
  if (inst === undefined) throw new Error(`no instance ${name} in ${accountName}`)
  return inst.id
}
