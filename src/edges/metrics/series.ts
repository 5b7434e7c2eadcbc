/**
 * @module Series whose values live elsewhere (integers the edges bump, sizes of what they hold)
 * and are copied into prom-client only when Prometheus scrapes: a prom-client metric with a
 * `collect` that resets it and sets every sample afresh. The request paths never call prom-client.
 */
import { Counter, Gauge, type Registry } from 'prom-client'

export type Labels<L extends string> = { [K in L]: string }

export interface Sample<L extends string> {
  labels: Labels<L>
  value: number
}

interface SeriesSpec<L extends string> {
  name: string
  help: string
  labelNames: readonly L[]
  /** Every sample of the series now; a label set not read is not exposed. */
  read: () => Iterable<Sample<L>>
}

/** A counter read from a running total at scrape time (the total only grows). */
export function counterOf<L extends string>(registry: Registry, spec: SeriesSpec<L>): void {
  const { read } = spec
  new Counter<L>({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames,
    registers: [registry],
    collect() {
      this.reset()
      for (const s of read()) this.inc(s.labels, s.value)
    },
  })
}

/** A gauge computed at scrape time. */
export function gaugeOf<L extends string>(registry: Registry, spec: SeriesSpec<L>): void {
  const { read } = spec
  new Gauge<L>({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames,
    registers: [registry],
    collect() {
      this.reset()
      for (const s of read()) this.set(s.labels, s.value)
    },
  })
}

/** One sample without labels. */
export function one(value: number): Sample<never>[] {
  return [{ labels: {} as Labels<never>, value }]
}

/** A bounded set of label values seen at run time: past `max` distinct values, the rest are `other`. */
export class BoundedLabels {
  private readonly seen = new Set<string>()

  constructor(private readonly max: number) {}

  of(value: string): string {
    if (this.seen.has(value)) return value
    if (this.seen.size >= this.max) return 'other'
    this.seen.add(value)
    return value
  }
}
