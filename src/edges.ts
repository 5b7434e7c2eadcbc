/**
 * @module The streaming edges (WebSocket, SSE) and the dashboard, mounted on the hub's server.
 */
import type { Logger } from 'pino'
import { mountDashboard, type DashboardFiles } from './adapters/uws/dashboard-route.js'
import { mountStreams } from './adapters/uws/stream/index.js'
import type { HubConfig } from './config.js'
import type { StartOptions } from './start.js'

export function mountEdges(
  cfg: HubConfig,
  log: Logger,
  dashboard?: { files: DashboardFiles; headers: Readonly<Record<string, string>> },
): NonNullable<StartOptions['mount']> {
  return (server, hub) => {
    if (dashboard !== undefined) mountDashboard(server.router, dashboard.files, dashboard.headers)
    const streams = mountStreams(
      server,
      hub,
      {
        idleTimeoutS: cfg.wsIdleTimeoutS,
        maxFrameBytes: cfg.wsMaxFrameBytes,
        maxBufferBytes: cfg.wsMaxBufferBytes,
        maxSubscriptions: cfg.wsMaxSubscriptions,
        maxFramesPerSec: cfg.wsMaxFramesPerSec,
        maxBacklogFrames: cfg.changeLogMax,
      },
      log,
    )
    return { close: () => streams.close() }
  }
}
