/**
 * @module CPU accounting from /proc: per-core busy share (including softirq, where loopback TCP
 * work lands) and a process's own CPU time. Both read as "unknown" off Linux.
 */
import { readFileSync } from 'node:fs'

export interface CoreTimes {
  busy: number[]
  steal: number[]
  total: number[]
}

export function readCores(): CoreTimes | null {
  let text: string
  try {
    text = readFileSync('/proc/stat', 'utf8')
  } catch {
    return null
  }
  const out: CoreTimes = { busy: [], steal: [], total: [] }
  for (const line of text.split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line)
    if (m === null) continue
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const f = m[2]!.trim().split(/\s+/).slice(0, 8).map(Number)
    const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [number, number, number, number, number, number, number, number]
    const core = Number(m[1])
    out.busy[core] = user + nice + system + irq + softirq
    out.steal[core] = steal
    out.total[core] = user + nice + system + idle + iowait + irq + softirq + steal
  }
  return out
}

/** Busy and steal shares (0–1) of each core between two readings. */
export function coreShares(a: CoreTimes | null, b: CoreTimes | null): { busy: number[]; steal: number[] } {
  if (a === null || b === null) return { busy: [], steal: [] }
  const busy: number[] = []
  const steal: number[] = []
  for (let i = 0; i < b.total.length; i++) {
    const dt = b.total[i]! - (a.total[i] ?? 0)
    busy.push(dt > 0 ? (b.busy[i]! - a.busy[i]!) / dt : NaN)
    steal.push(dt > 0 ? (b.steal[i]! - a.steal[i]!) / dt : NaN)
  }
  return { busy, steal }
}

/** User + system CPU seconds a process has used (clock ticks are 1/100 s on Linux). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return NaN
  }
}
