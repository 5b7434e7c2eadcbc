/**
 * @module The streaming edges (WebSocket, SSE) and the dashboard, mounted on the hub's server.
 */
import type { Logger } from 'pino'
import type { HubConfig } from './config.js'
import type { StartOptions } from './start.js'

export function mountEdges(_cfg: HubConfig, _log: Logger): StartOptions['mount'] {
  return () => {}
}
