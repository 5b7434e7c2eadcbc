/**
 * @module `npm run demo` (embedded): the hub in simulated WhatsApp mode with a dozen instances that pair and
 * then flap the way real numbers do (drops, reconnects, presence and profile changes, now and then
 * a conflict, a lost network, a TLS failure or a logout), so the dashboard and the stream have
 * something to show.
 */
import { defaultConfig } from '../core/integrations.js'
import { startHub } from './compose.js'
import { loadConfig } from './config.js'
import { createLogger } from './log.js'

const NAMES = ['sales', 'support', 'billing', 'ops', 'marketing', 'jakarta', 'lisbon', 'recife', 'austin', 'warsaw', 'osaka', 'nairobi']

const cfg = loadConfig({
  HUB_DATA_DIR: './data/demo',
  HUB_LOG_LEVEL: 'warn',
  ...process.env,
  HUB_WHATSAPP: 'simulated',
})
const log = createLogger(cfg.logLevel)
const running = await startHub(cfg, { log, whatsapp: {} })
const { hub, wa } = running
const sim = wa!.simulator!
const account = hub.accountNamed('default') ?? hub.accounts()[0]!
const token = running.first.defaultAccountToken ?? hub.rotateAccountToken(account.id)
const find = (name: string) => hub.lookup(account.id, name)

for (const name of NAMES) {
  if (find(name) === undefined) {
    const config = defaultConfig()
    config.settings.keepOnlineStatus = Math.random() < 0.7
    hub.createInstance(account.id, name, config)
  }
}

const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const ref = (name: string) => {
  const i = find(name)!
  return { id: i.id, name, settings: i.config.settings, proxy: i.config.proxy }
}

async function pair(name: string): Promise<void> {
  const out = await wa!.connect(ref(name), { timeoutMs: 10_000 })
  if (out.status === 'connected') return
  await sleep(500 + Math.random() * 2500)
  await sim.scan(ref(name).id)
}

const base = `http://${cfg.host === '0.0.0.0' ? '127.0.0.1' : cfg.host}:${running.port}`
console.log(`
statushub demo: ${NAMES.length} simulated WhatsApp numbers on ${base}

  token:      ${token}
  dashboard:  ${base}/   (paste the token)
  list:       curl -H 'token: ${token}' ${base}/api/instance/list
  stream:     curl -N -H 'token: ${token}' ${base}/api/instance/stream
  drop one:   curl -X POST -H 'token: ${token}' ${base}/api/sim/sales/close -d '{"code":428,"message":"Connection Terminated"}'

Ctrl-C stops it (the snapshot is flushed; the next run resumes the same stream).
`)

await Promise.all(NAMES.map((n) => pair(n).catch((err) => log.warn({ err, n }, 'pairing failed'))))

/** The network fails the way real sockets do for a while, then comes back. */
async function loseNetwork(id: number, mode: 'unreachable' | 'tls' | 'hang'): Promise<void> {
  await sim.network(id, mode)
  await sim.close(id, 428, 'Connection Terminated')
  setTimeout(() => void sim.network(id, 'ok'), 5_000 + Math.random() * 20_000)
}

let stopping = false
const flap = async () => {
  while (!stopping) {
    await sleep(600 + Math.random() * 1200)
    const name = pick(NAMES)
    const inst = find(name)
    if (inst === undefined) continue
    const id = inst.id
    const state = inst.status.state
    const roll = Math.random()
    try {
      if (state === 'loggedout' || state === 'disconnected') {
        if (roll < 0.3) await pair(name)
      } else if (state !== 'connected') {
        continue
      } else if (roll < 0.4) await sim.close(id, 428, 'Connection Terminated')
      else if (roll < 0.55) await sim.close(id, 408, 'Connection was lost')
      else if (roll < 0.75) await sim.online(id, inst.status.presenceStatus !== 'available')
      else if (roll < 0.85) await sim.profile(id, { name: `${name[0]!.toUpperCase()}${name.slice(1)} ${Math.floor(Math.random() * 100)}` })
      else if (roll < 0.88) await sim.close(id, 503, 'Service Unavailable')
      else if (roll < 0.92) await sim.close(id, 440, 'Stream Errored (conflict)')
      else if (roll < 0.96) await loseNetwork(id, pick(['unreachable', 'tls', 'hang'] as const))
      else await sim.close(id, 401, 'Stream Errored (conflict)')
    } catch (err) {
      log.debug({ err, name }, 'demo action refused')
    }
  }
}
void flap()

const stop = () => {
  stopping = true
  running.stop().then(() => process.exit(0))
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
