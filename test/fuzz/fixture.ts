/**
 * The hub the fuzz suites attack: a real hub process (simulated WhatsApp) with one account of
 * configured instances, and a fingerprint of everything stored, to prove the attack changed nothing.
 */
import { readFileSync } from 'node:fs'
import { tempDir } from '../helpers/hub.js'
import { heapAfterGc } from '../helpers/heap.js'
import { call, PROC_ADMIN, spawnHub, type HubProcess } from '../helpers/hub-process.js'

export interface FuzzHub {
  hub: HubProcess
  port: number
  accountToken: string
  instanceToken: string
  existing: string[]
  /** Every account, every instance in both list shapes, every integration read. */
  fingerprint(): Promise<string>
  /** The hub process's resident set, in bytes (/proc). */
  rss(): number
  /** Its heap after a full collection (through its inspector). */
  heap(): Promise<number>
}

export async function startFuzzHub(env: Record<string, string> = {}): Promise<FuzzHub> {
  const hub = spawnHub(tempDir(), { HUB_WHATSAPP: 'simulated', ...env }, { inspect: true })
  const port = await hub.listening()
  if (port === null) throw new Error(`the fuzz hub did not start: ${hub.err()}`)
  const account = await call(port, 'POST', '/api/admin/accounts', PROC_ADMIN, { name: 'fuzz', instanceLimit: 50 })
  const accountToken = account.json.token as string
  const existing = ['sales', 'support', 'ops.team', 'a-b_c']
  let instanceToken = ''
  for (const [i, name] of existing.entries()) {
    const r = await call(port, 'POST', '/api/instance/new', accountToken, {
      name,
      webhookEnabled: i % 2 === 0,
      webhookURL: `https://hooks.example.test/${i}`,
      webhookAuthorization: `Bearer fuzz-${i}`,
      keepOnlineStatus: i === 1,
      proxyEnabled: i === 2,
      proxyHost: 'proxy.example.test',
      proxyPort: '3128',
    })
    if (r.status !== 201) throw new Error(`create ${name}: ${JSON.stringify(r.json)}`)
    if (i === 0) instanceToken = r.json.instance.token
  }
  await call(port, 'POST', '/api/events/websocket/support', accountToken, { enabled: true })
  const fingerprint = async () => {
    const parts: unknown[] = [(await call(port, 'GET', '/api/admin/accounts', PROC_ADMIN)).json]
    for (const path of ['/api/instance/list', '/api/v1/instance/list']) parts.push((await call(port, 'GET', path, accountToken)).json)
    for (const name of existing) {
      for (const path of ['getSettings', 'getProxy', 'getS3']) parts.push((await call(port, 'GET', `/api/instance/${path}/${name}`, accountToken)).json)
      parts.push((await call(port, 'GET', `/api/events/getWebhook/${name}`, accountToken)).json)
    }
    parts.push((await call(port, 'GET', '/api/instance/list', instanceToken)).status)
    return JSON.stringify(parts)
  }
  const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${hub.pid}/status`, 'utf8'))![1]) * 1024
  const heap = async () => (await heapAfterGc(hub)).heapUsed
  return { hub, port, accountToken, instanceToken, existing, fingerprint, rss, heap }
}
