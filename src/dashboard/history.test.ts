import { describe, expect, it } from 'vitest'
import { ApiError, type Api } from './api.js'
import { fetchHistory, withLive } from './history.js'
import type { Transition } from './timeline.js'

const failing =
  (status: number, message: string): Api =>
  async () => {
    throw new ApiError(status, message)
  }

const entry = (seq: number | null, state: Transition['state'], at: string): Transition => ({ at, seq, state, reason: null, displayStatus: state })

describe('fetchHistory', () => {
  it('asks for the instance by path segment with the largest limit, and reads the contract', async () => {
    const asked: string[] = []
    const api: Api = async (method, path) => {
      asked.push(`${method} ${path}`)
      return {
        success: true,
        instance: 'a b',
        history: [
          { at: '2025-01-01T00:02:00.000Z', seq: 12, state: 'connecting', reason: { code: 428, name: 'connectionClosed', message: 'Connection Terminated' }, displayStatus: 'Reconnecting' },
          { at: '2025-01-01T00:01:00.000Z', seq: 11, state: 'connected', reason: null, displayStatus: 'Online' },
          { at: 'x', seq: 10, state: 'bogus' },
        ],
        uptime: { share24h: 0.5, connectedMs: 60_000, windowMs: 120_000 },
        liveness: { lastFrameAt: '2025-01-01T00:02:30.000Z', connectedSince: null },
      }
    }
    expect(await fetchHistory(api, 'a b')).toEqual({
      kind: 'hub',
      entries: [
        { at: '2025-01-01T00:02:00.000Z', seq: 12, state: 'connecting', reason: { code: 428, name: 'connectionClosed', message: 'Connection Terminated' }, displayStatus: 'Reconnecting' },
        { at: '2025-01-01T00:01:00.000Z', seq: 11, state: 'connected', reason: null, displayStatus: 'Online' },
      ],
      uptime: { share24h: 0.5, connectedMs: 60_000, windowMs: 120_000 },
      liveness: { lastFrameAt: '2025-01-01T00:02:30.000Z', connectedSince: null },
    })
    expect(asked).toEqual(['GET /api/instance/history/a%20b?limit=1000'])
  })

  it('falls back on a 404 "Not found" only: an unknown instance and other errors are told apart', async () => {
    expect(await fetchHistory(failing(404, 'Not found'), 'x')).toEqual({ kind: 'none' })
    expect(await fetchHistory(failing(404, 'Instance not found'), 'x')).toEqual({ kind: 'gone', message: 'Instance not found' })
    expect(await fetchHistory(failing(429, 'Too many requests'), 'x')).toEqual({ kind: 'error', message: 'Too many requests' })
    expect(await fetchHistory(failing(0, 'The hub is not reachable'), 'x')).toEqual({ kind: 'error', message: 'The hub is not reachable' })
  })

  it('treats an answer without a history as an error, and missing uptime or liveness as unknown', async () => {
    expect(await fetchHistory(async () => ({ success: true }), 'x')).toEqual({ kind: 'error', message: 'The hub answered without a history' })
    expect(await fetchHistory(async () => ({ success: true, history: [] }), 'x')).toEqual({ kind: 'hub', entries: [], uptime: null, liveness: null })
  })
})

describe('withLive', () => {
  it("puts the stream's transitions newer than the hub's newest seq in front, and nothing seeded", () => {
    const hub = [entry(12, 'connecting', 'b'), entry(11, 'connected', 'a')]
    const live = [entry(14, 'connected', 'd'), entry(13, 'connecting', 'c'), entry(12, 'connecting', 'b'), entry(null, 'connected', 'a')]
    expect(withLive(hub, live).map((e) => e.seq)).toEqual([14, 13, 12, 11])
    expect(withLive([], live).map((e) => e.seq)).toEqual([14, 13, 12])
  })
})
