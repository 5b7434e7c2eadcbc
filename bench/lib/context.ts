/**
 * @module What every scenario receives and returns.
 */
import type { LoadgenKind } from './loadgen.js'
import type { Table } from './table.js'

export interface BenchContext {
  /** The one-minute pass: every scenario runs once, small and short, to prove it still works. */
  quick: boolean
  /** Interleaved repetitions (A B A B …); medians are taken over them. */
  rounds: number
  loadgen: LoadgenKind
  /** A scratch folder for this run, removed at the end. */
  tmp: string
  log(line: string): void
  /**
   * Called before every round: waits (within a per-run budget) until the machine is quiet, since
   * these are shared machines, and records how busy it was. Returns the busiest core's share.
   */
  quiet(label: string): Promise<number>
}

/** One line of the summary: a measured figure against its target. */
export interface Headline {
  figure: string
  /** The figure as printed: median (min–max). */
  value: string
  /** The median, for the JSON file and the smoke test. */
  median: number
  target: string
  /** null when the figure has no target (reported only). */
  met: boolean | null
}

export interface ScenarioOutput {
  name: string
  title: string
  result: unknown
  tables: Table[]
  headline: Headline[]
  /** Every number the scenario produced, flat, for the smoke test's "all finite" check. */
  numbers: Record<string, number>
}
