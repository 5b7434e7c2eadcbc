/**
 * @module `npm start`: runs the hub with the configuration from the environment until SIGTERM or
 * SIGINT, then drains and flushes the snapshot before exiting.
 */
import type { FirstStart } from '../hub/hub.js'
import { startClusterNode, type RunningNode } from './cluster.js'
import { StartError, startHub } from './compose.js'
import { ConfigError, loadConfig, type HubConfig } from './config.js'
import { createLogger } from './log.js'

let cfg: HubConfig
try {
  cfg = loadConfig()
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message)
    process.exit(2)
  }
  throw err
}

const log = createLogger(cfg.logLevel)
// Baileys rejects promises nobody awaits (a frame that fails to decrypt): on Node 20 that would end
// the process and every other instance's socket with it. Logged, never fatal.
process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection (kept running)'))
try {
  const running = cfg.natsUrl === undefined ? await startHub(cfg, { log, whatsapp: {} }) : await runClusterNode(cfg)
  log.info({ port: running.port, whatsapp: cfg.whatsapp, epoch: running.hub.epoch, cluster: cfg.natsUrl !== undefined }, 'statushub listening')
  printFirstStart(running.first, `http://${cfg.host === '0.0.0.0' ? '127.0.0.1' : cfg.host}:${running.port}`)
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down')
    running.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
} catch (err) {
  if (err instanceof StartError) printFirstStart(err.first, null)
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
}

/**
 * A cluster node; when it loses step with the cluster (the stream was deleted and made again) it
 * stops and starts again from the engine, in this process, on the same port: clients reconnect and
 * get the new epoch's snapshot (`recovered: false`).
 */
async function runClusterNode(cfg: HubConfig): Promise<{ port: number; hub: RunningNode['hub']; first: FirstStart; stop(): Promise<void> }> {
  let node = await startClusterNode(cfg, { log, whatsapp: {} })
  const first = node.first
  let stopped = false
  const watch = (n: RunningNode) =>
    void n.lost.then(async (why) => {
      if (stopped) return
      log.warn({ why }, 'restarting this cluster node from the engine')
      await n.stop()
      if (stopped) return
      node = await startClusterNode(cfg, { log, whatsapp: {} })
      watch(node)
    })
  watch(node)
  return {
    port: node.port,
    get hub() {
      return node.hub
    },
    first,
    stop: async () => {
      stopped = true
      await node.stop()
    },
  }
}

/** The tokens of a first start, shown once; `base` is null when the hub is not serving. */
function printFirstStart(first: FirstStart, base: string | null): void {
  if (first.adminToken !== null) console.log(`\nAdmin token (shown once; manages accounts): ${first.adminToken}`)
  if (first.defaultAccountToken === null) return
  console.log(`Account "default" token (shown once): ${first.defaultAccountToken}`)
  if (base === null) return
  console.log(`Try it:  curl -H 'token: ${first.defaultAccountToken}' ${base}/api/instance/list`)
  console.log(`Dashboard: ${base}/\n`)
}
