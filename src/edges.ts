/**
 * @module The streaming edges (WebSocket, SSE) and the dashboard, mounted on the hub's server.
 */
import type { Logger } from 'pino'
import { mountStreams } from './adapters/uws/stream/index.js'
import type { HubConfig } from './config.js'
import type { StartOptions } from './start.js'

export function mountEdges(cfg: HubConfig, log: Logger): NonNullable<StartOptions['mount']> {
  return (server, hub) => {
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
