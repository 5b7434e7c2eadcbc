/**
 * Scrapes `/metrics` and parses the Prometheus text exposition format (0.0.4): `# TYPE` lines and
 * samples `name{label="value",…} number`, label values unescaped (`\\`, `\"`, `\n`).
 */

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Scrape {
  text: string
  samples: Sample[]
  /** `# TYPE` of each family. */
  types: Map<string, string>
  /**
   * The value of the one sample of `name` whose labels are exactly `labels`; undefined when there
   * is none.
   */
  value(name: string, labels?: Record<string, string>): number | undefined
  /** Samples of `name`, keyed by their labels joined as `k=v,k=v` in label order. */
  series(name: string): Record<string, number>
  /** Every label name used by any statushub_* sample. */
  labelNames(prefix?: string): Set<string>
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c))
}

function number(raw: string): number {
  if (raw === '+Inf') return Infinity
  if (raw === '-Inf') return -Infinity
  // prom-client writes NaN as `Nan`; Prometheus reads it case-insensitively.
  if (raw.toLowerCase() === 'nan') return NaN
  const n = Number(raw)
  if (Number.isNaN(n)) throw new Error(`not a sample value: ${raw}`)
  return n
}

export function parseExposition(text: string): Omit<Scrape, 'text'> {
  const samples: Sample[] = []
  const types = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('# TYPE ')) {
      const [, name, type] = line.split(' ').slice(1)
      types.set(name!, type!)
      continue
    }
    if (line.startsWith('#')) continue
    const m = SAMPLE.exec(line)
    if (m === null) throw new Error(`not an exposition line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = unescape(l[2]!)
    samples.push({ name: m[1]!, labels, value: number(m[3]!) })
  }
  const same = (a: Record<string, string>, b: Record<string, string>) => {
    const ka = Object.keys(a)
    return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k])
  }
  return {
    samples,
    types,
    value(name, labels = {}) {
      const found = samples.filter((s) => s.name === name && same(s.labels, labels))
      if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} appears ${found.length} times`)
      return found[0]?.value
    },
    series(name) {
      return Object.fromEntries(
        samples
          .filter((s) => s.name === name)
          .map((s) => [
            Object.entries(s.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(','),
            s.value,
          ]),
      )
    },
    labelNames(prefix = 'statushub_') {
      return new Set(samples.filter((s) => s.name.startsWith(prefix)).flatMap((s) => Object.keys(s.labels)))
    },
  }
}

/** GET /metrics on `base` with `token` as a Bearer token; throws unless it answers 200. */
export async function scrape(base: string, token: string): Promise<Scrape> {
  const r = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })
  const text = await r.text()
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}: ${text.slice(0, 300)}`)
  return { text, ...parseExposition(text) }
}
