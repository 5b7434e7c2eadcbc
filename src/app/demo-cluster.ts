/**
 * @module `npm run demo -- --cluster`: a cluster on this machine. It starts nats-server (found on
 * PATH or in /usr/sbin) with JetStream on a free port and a temporary store, then three nodes
 * (`a`, `b`, `c`, ports 3001-3003 unless HUB_PORT sets the first) in simulated WhatsApp mode with
 * one generated HUB_SECRET_KEY, pairs a dozen numbers through node a and flaps them through the
 * REST simulator routes, so any node's dashboard and stream show them. Ctrl-C stops everything and
 * removes the store. Kill a node (its pid is printed) to watch its numbers fail over.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, natsServerBinary } from './loopback.js'

const NAMES = ['sales', 'support', 'billing', 'ops', 'marketing', 'jakarta', 'lisbon', 'recife', 'austin', 'warsaw', 'osaka', 'nairobi']
const NODES = ['a', 'b', 'c']
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function natsServer(): string {
  try {
    return natsServerBinary()
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err))
    process.exit(1)
  }
}

const children: ChildProcess[] = []
const store = mkdtempSync(join(tmpdir(), 'statushub-demo-cluster-'))
const natsPort = await freePort()
const nats = spawn(natsServer(), ['-js', '-a', '127.0.0.1', '-p', String(natsPort), '-sd', store], { stdio: ['ignore', 'ignore', 'pipe'] })
children.push(nats)
const natsUrl = `nats://127.0.0.1:${natsPort}`
await waitFor(async () => {
  await new Promise<void>((resolve, reject) => {
    const s = new Socket()
    s.once('error', reject)
    s.connect(natsPort, '127.0.0.1', () => (s.destroy(), resolve()))
  })
}, 'nats-server')

const secretKey = randomBytes(32).toString('hex')
const adminToken = randomBytes(24).toString('base64url')
const firstPort = Number(process.env.HUB_PORT ?? 3001)
let token: string | null = null
const nodes = NODES.map((id, i) => {
  const port = firstPort + i
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], {
    env: {
      ...process.env,
      HUB_NATS_URL: natsUrl,
      HUB_NODE_ID: id,
      HUB_PORT: String(port),
      HUB_HOST: process.env.HUB_HOST ?? '127.0.0.1',
      HUB_WHATSAPP: 'simulated',
      HUB_SECRET_KEY: secretKey,
      HUB_ADMIN_TOKEN: adminToken,
      HUB_LOG_LEVEL: process.env.HUB_LOG_LEVEL ?? 'warn',
      HUB_DATA_DIR: join(store, `node-${id}`),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  child.stdout!.on('data', (d: Buffer) => {
    const m = /Account "default" token \(shown once\): (\S+)/.exec(d.toString())
    if (m) token = m[1]!
  })
  children.push(child)
  return { id, port, child, base: `http://127.0.0.1:${port}` }
})
// One node at a time claims the default account; the others join the same cluster.
for (const n of nodes) await waitFor(async () => {
  const r = await fetch(`${n.base}/readyz`)
  if (r.status !== 200) throw new Error(`node ${n.id}: ${r.status}`)
}, `node ${n.id}`)
await waitFor(async () => {
  if (token === null) throw new Error('no token yet')
}, 'the default account token')

const api = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(`${nodes[0]!.base}${path}`, { method, headers: { token: token!, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined })
  return (await r.json()) as any
}

for (const name of NAMES) await api('POST', '/api/instance/new', { name })
console.log(`
statushub cluster demo: nats-server on ${natsUrl}, ${NAMES.length} simulated numbers on three nodes

${nodes.map((n) => `  node ${n.id}:  ${n.base}/   (pid ${n.child.pid})`).join('\n')}
  token:   ${token}
  admin:   ${adminToken}
  cluster: curl -H 'token: ${adminToken}' ${nodes[0]!.base}/api/admin/cluster
  list:    curl -H 'token: ${token}' ${nodes[1]!.base}/api/instance/list
  stream:  curl -N -H 'token: ${token}' ${nodes[2]!.base}/api/instance/stream
  failover: kill -9 ${nodes[1]!.child.pid}   (node b's numbers reconnect on a and c)

Ctrl-C stops the nodes and nats-server and removes the store.
`)

const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!
async function pair(name: string): Promise<void> {
  const out = await api('GET', `/api/instance/connect/${name}`)
  if (out.status !== 'qr') return
  await sleep(300 + Math.random() * 1500)
  await api('POST', `/api/sim/${name}/scan`)
}
await Promise.all(NAMES.map((n) => pair(n).catch(() => undefined)))

let stopping = false
void (async () => {
  while (!stopping) {
    await sleep(800 + Math.random() * 1500)
    const name = pick(NAMES)
    try {
      const inst = (await api('GET', `/api/instance/list?instanceName=${name}`)).instances?.[0]
      const state = inst?.connection.state
      const roll = Math.random()
      if (state === 'disconnected' || state === 'loggedout') {
        if (roll < 0.4) await pair(name)
      } else if (state !== 'connected') continue
      else if (roll < 0.45) await api('POST', `/api/sim/${name}/close`, { code: 428, message: 'Connection Terminated' })
      else if (roll < 0.6) await api('POST', `/api/sim/${name}/close`, { code: 408, message: 'Connection was lost' })
      else if (roll < 0.85) await api('POST', `/api/sim/${name}/online`, { online: inst.connection.presenceStatus !== 'available' })
      else if (roll < 0.95) await api('POST', `/api/sim/${name}/profile`, { name: `${name} ${Math.floor(Math.random() * 100)}` })
      else await api('POST', `/api/sim/${name}/close`, { code: 401, message: 'Stream Errored (conflict)' })
    } catch {
      // A node the user killed, or a refused action: the demo goes on.
    }
  }
})()

async function waitFor(check: () => Promise<void>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      return await check()
    } catch (err) {
      if (Date.now() > deadline) {
        console.error(`the demo could not start: ${what} did not come up (${err instanceof Error ? err.message : String(err)})`)
        stop(1)
      }
      await sleep(100)
    }
  }
}

function stop(code = 0): void {
  stopping = true
  for (const c of children.slice(1)) c.kill('SIGTERM')
  setTimeout(() => {
    nats.kill('SIGTERM')
    setTimeout(() => {
      rmSync(store, { recursive: true, force: true })
      process.exit(code)
    }, 500)
  }, 3000)
}
process.once('SIGINT', () => stop())
process.once('SIGTERM', () => stop())
