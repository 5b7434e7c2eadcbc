/**
 * @module `npm start`: runs the hub with the configuration from the environment until SIGTERM or
 * SIGINT, then drains and flushes the snapshot before exiting.
 */
import { ConfigError, loadConfig, type HubConfig } from './config.js'
import { createLogger } from './log.js'
import { startHub } from './start.js'
import { whatsappFor } from './wiring.js'
import { dashboardFiles } from './dashboard-files.js'
import { mountEdges } from './edges.js'

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
try {
  const running = await startHub(cfg, { log, whatsapp: whatsappFor(cfg, log), mount: mountEdges(cfg, log, await dashboardFiles(log)) })
  const base = `http://${cfg.host === '0.0.0.0' ? '127.0.0.1' : cfg.host}:${running.port}`
  log.info({ port: running.port, whatsapp: cfg.whatsapp, epoch: running.hub.epoch }, 'statushub listening')
  if (running.first.adminToken !== null) {
    console.log(`\nAdmin token (shown once; manages accounts): ${running.first.adminToken}`)
  }
  if (running.first.defaultAccountToken !== null) {
    console.log(`Account "default" token (shown once): ${running.first.defaultAccountToken}`)
    console.log(`Try it:  curl -H 'token: ${running.first.defaultAccountToken}' ${base}/api/instance/list`)
    console.log(`Dashboard: ${base}/\n`)
  }
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
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
}
