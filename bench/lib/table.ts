/**
 * @module Markdown tables: readable in a terminal and pasteable into the README as they are.
 */

export type Align = 'l' | 'r'

export interface Table {
  title: string
  headers: string[]
  align?: Align[]
  rows: string[][]
  /** Lines printed under the table (how to read it). */
  notes?: string[]
}

export function renderTable(t: Table): string {
  const widths = t.headers.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)))
  const align = t.align ?? t.headers.map((_, i) => (i === 0 ? 'l' : 'r'))
  const cell = (s: string, i: number) => (align[i] === 'r' ? s.padStart(widths[i]!) : s.padEnd(widths[i]!))
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`
  const out = [`### ${t.title}`, '', line(t.headers), rule, ...t.rows.map((r) => line(r.map((c) => c ?? '')))]
  if (t.notes && t.notes.length > 0) out.push('', ...t.notes)
  return out.join('\n')
}
