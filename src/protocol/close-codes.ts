/**
 * @module The stream's WebSocket close codes (stream contract), shared by the hub and the client.
 * Dependency-free on purpose: the client package bundles it. 4000–4499: resume from your last
 * position; 4001 is terminal (a new token is needed).
 */
export const CLOSE = {
  /** The hub is shutting down: resume elsewhere or later. */
  shuttingDown: 1001,
  /** No close frame (the connection dropped); never sent, only seen. */
  abnormal: 1006,
  tooBig: 1009,
  tokenRevoked: 4001,
  slowConsumer: 4008,
  rateLimited: 4029,
} as const
