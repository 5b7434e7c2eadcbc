/**
 * @module What the stream edges count since start, for the metrics edge (read at scrape time).
 * Each is an integer bumped where the event happens; nothing here is computed on a hot path.
 */
export class StreamCounts {
  /**
   * Data frames sent to clients: snapshots, `resumed`, changes (a change published to a topic
   * counts once per subscribed socket), SSE events, `/ws/:instance` events. Not pongs, errors
   * or acknowledgements.
   */
  frames = 0
  /** Subscribers closed for falling behind (WebSocket 4008, an SSE stream ended for its backlog). */
  slowConsumers = 0
  /** Resumes (`since`, `Last-Event-ID`) answered with the missed changes. */
  recovered = 0
  /** Resumes answered with a snapshot instead (too far back, another epoch, no longer kept). */
  resumedWithSnapshot = 0

  resumed(answer: 'resumed' | 'snapshot'): void {
    if (answer === 'resumed') this.recovered++
    else this.resumedWithSnapshot++
  }
}
