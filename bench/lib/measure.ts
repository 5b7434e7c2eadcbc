/**
 * @module One HTTP measurement cell: the load generator against one URL, with the CPU of both
 * cores and of the server process recorded around it, so every figure comes with its
 * saturation check (who was busy: the server or the load generator).
 */
import { monoMs } from './clock.js'
import { coreShares, processCpuSeconds, readCores } from './cpu.js'
import { runHttp, type HttpLoad, type HttpRun, type LoadgenKind } from './loadgen.js'
import { LOAD_CORE, PINNED, SERVER_CORE } from './proc.js'

export interface HttpCell extends HttpRun {
  /** Busy share (0–1) of the server core and the load core; NaN when not pinned. */
  serverCore: number
  loadCore: number
  steal: number
  /** Server process CPU share (0–1). */
  serverCpu: number
  /** Server CPU µs per request: the server core's busy time (softirq included) when pinned. */
  serverUsPerReq: number
  /** Requests per second per fully busy server core (a linear extrapolation). */
  perServerCore: number
  /** The load generator's core was saturated while the server's was not: a lower bound. */
  clientBound: boolean
}

export async function measureHttp(loadgen: LoadgenKind, load: HttpLoad, serverPid: number): Promise<HttpCell> {
  const c0 = readCores()
  const p0 = processCpuSeconds(serverPid)
  const t0 = monoMs()
  const r = await runHttp(loadgen, load)
  const wall = (monoMs() - t0) / 1000
  const p1 = processCpuSeconds(serverPid)
  const shares = coreShares(c0, readCores())
  const serverCpu = (p1 - p0) / wall
  const serverCore = PINNED ? shares.busy[SERVER_CORE]! : NaN
  const loadCore = PINNED ? shares.busy[LOAD_CORE]! : NaN
  const busy = PINNED ? serverCore : serverCpu
  return {
    ...r,
    serverCore,
    loadCore,
    steal: Math.max(...shares.steal.filter(Number.isFinite), 0),
    serverCpu,
    serverUsPerReq: (busy * wall * 1e6) / Math.max(1, r.requests),
    perServerCore: r.reqPerSec / busy,
    clientBound: PINNED && loadCore >= 0.95 && serverCore < 0.9,
  }
}

/** Per-round ratios a/b of paired cells (same round, adjacent in time). */
export function pairedRatios(a: number[], b: number[]): number[] {
  return a.map((x, i) => x / b[i]!).filter(Number.isFinite)
}

/** Busy shares of both cores over `ms` with nothing of ours running: how loud the machine is. */
export async function backgroundLoad(ms = 1000): Promise<number[]> {
  const c0 = readCores()
  await new Promise((r) => setTimeout(r, ms))
  return coreShares(c0, readCores()).busy
}
