import { describe, expect, it } from 'vitest'
import { HubError } from '../core/errors.js'
import type { InstanceView, TenantPrincipal } from '../hub/model.js'
import type { Change } from '../ports/bus.js'
import { follows, planAnswer, resolveTargets, type StreamSource } from './plan.js'

/** Account 1 holds a (1), b (2), c (3); account 2 holds x (9). `kept` are the changes still kept (all after `from`). */
function source(opts: { kept?: Change[] | null; seq?: number; from?: number } = {}): StreamSource & { deleted: Set<number> } {
  const all: InstanceView[] = [
    { id: 1, accountId: 1, name: 'a', apiInstanceName: 't1_aaaaaaaa_a' },
    { id: 2, accountId: 1, name: 'b', apiInstanceName: 't1_bbbbbbbb_b' },
    { id: 3, accountId: 1, name: 'c', apiInstanceName: 't1_cccccccc_c' },
    { id: 9, accountId: 2, name: 'x', apiInstanceName: 't2_xxxxxxxx_x' },
  ] as InstanceView[]
  const deleted = new Set<number>()
  const live = () => all.filter((i) => !deleted.has(i.id))
  const lookup = (accountId: number, ref: string) => live().find((i) => i.accountId === accountId && (i.name === ref || i.apiInstanceName === ref))
  return {
    deleted,
    epoch: 'e1',
    account: () => ({ seq: opts.seq ?? 5 }),
    instance: (id) => live().find((i) => i.id === id),
    reachableBy: (p) => live().filter((i) => i.accountId === p.accountId && (p.kind === 'account' || i.id === p.instanceId)),
    lookup,
    resolveInstance: (p, ref) => {
      const inst = lookup(p.accountId, ref)
      if (inst === undefined) throw new HubError('notFound', 'Instance not found')
      if (p.kind === 'instance' && inst.id !== p.instanceId) throw new HubError('forbidden', 'Token does not have access to this instance')
      return inst
    },
    replayFrom: (_a, after, max) => {
      const seq = opts.seq ?? 5
      if (opts.kept === null || opts.kept === undefined || after < (opts.from ?? 2) || seq - after > max) return null
      return after >= seq - 1 ? 'memory' : 'store'
    },
    changesAfter: (_a, after, limit) => (opts.kept ?? []).filter((c) => c.seq > after).slice(0, limit),
    removedAfter: (_a, after, names) =>
      new Map((opts.kept ?? []).filter((c) => c.seq > after && c.kind === 'removed' && names.includes(c.instance) && deleted.has(c.instanceId)).map((c) => [c.instance, c.instanceId])),
    itemJson: (v) => Buffer.from(`{"name":"${v.name}"}`),
  }
}

const ACCOUNT: TenantPrincipal = { kind: 'account', tokenHash: 'h1', accountId: 1 }
const INSTANCE_B: TenantPrincipal = { kind: 'instance', tokenHash: 'h2', accountId: 1, instanceId: 2 }
const names = (t: { instances: InstanceView[] }) => t.instances.map((i) => i.name)
const change = (seq: number, instanceId: number, kind: Change['kind'] = 'diff', instance = `#${instanceId}`): Change => ({ seq, instanceId, instance, kind, at: 0, frame: `f${seq}` })
const error = (f: () => unknown) => {
  try {
    f()
  } catch (err) {
    return err instanceof HubError ? `${err.kind}: ${err.message}` : String(err)
  }
  return 'no error'
}

describe('resolveTargets', () => {
  it('gives an account token "*" as the whole account, including later instances', () => {
    const t = resolveTargets(source(), ACCOUNT, { kind: 'all' }, false)
    expect({ all: t.all, names: names(t), gone: t.gone }).toEqual({ all: true, names: ['a', 'b', 'c'], gone: [] })
  })

  it('gives an instance token "*" as its own instance only', () => {
    const t = resolveTargets(source(), INSTANCE_B, { kind: 'all' }, false)
    expect({ all: t.all, names: names(t) }).toEqual({ all: false, names: ['b'] })
  })

  it('resolves names and apiInstanceNames, once each, in the order given', () => {
    const t = resolveTargets(source(), ACCOUNT, { kind: 'names', names: ['c', 't1_aaaaaaaa_a', 'c'] }, false)
    expect(names(t)).toEqual(['c', 'a'])
  })

  it('refuses an unknown name and another account\'s name alike, naming it', () => {
    expect(error(() => resolveTargets(source(), ACCOUNT, { kind: 'names', names: ['a', 'zz'] }, false))).toBe('notFound: Instance not found: zz')
    expect(error(() => resolveTargets(source(), ACCOUNT, { kind: 'names', names: ['x'] }, false))).toBe('notFound: Instance not found: x')
  })

  it('refuses a sibling to an instance token', () => {
    expect(error(() => resolveTargets(source(), INSTANCE_B, { kind: 'names', names: ['a'] }, false))).toBe('forbidden: Token does not have access to this instance: a')
  })

  it('keeps the unknown names of an account token\'s resume as gone, and an instance token\'s as errors', () => {
    expect(resolveTargets(source(), ACCOUNT, { kind: 'names', names: ['a', 'zz'] }, true).gone).toEqual(['zz'])
    expect(error(() => resolveTargets(source(), INSTANCE_B, { kind: 'names', names: ['zz'] }, true))).toBe('notFound: Instance not found: zz')
  })

  it('applies the list filter rules: one unknown name is 404, several drop the unknown, commas only select nothing', () => {
    const s = source()
    expect(error(() => resolveTargets(s, ACCOUNT, { kind: 'filter', raw: 'zz' }, false))).toBe('notFound: Instance not found')
    expect(names(resolveTargets(s, ACCOUNT, { kind: 'filter', raw: 'c,zz,t1_aaaaaaaa_a' }, false))).toEqual(['a', 'c'])
    expect(names(resolveTargets(s, ACCOUNT, { kind: 'filter', raw: ' , ,' }, false))).toEqual([])
    expect(resolveTargets(s, ACCOUNT, { kind: 'filter', raw: 'zz' }, true).gone).toEqual(['zz'])
  })

  it('ignores the filter for an instance token, as the list does', () => {
    expect(names(resolveTargets(source(), INSTANCE_B, { kind: 'filter', raw: 'a,c' }, false))).toEqual(['b'])
  })
})

describe('planAnswer', () => {
  const kept = [change(3, 1), change(4, 2), change(5, 3)]
  const MAX = 10_000

  it('answers a fresh subscribe with a snapshot of the targets at the current seq', () => {
    const s = source({ kept, seq: 5 })
    const a = planAnswer(s, 1, resolveTargets(s, ACCOUNT, { kind: 'names', names: ['b', 'a'] }, false), undefined, MAX)
    expect(a.kind === 'snapshot' && { seq: a.seq, items: a.items.map(String) }).toEqual({ seq: 5, items: ['{"name":"b"}', '{"name":"a"}'] })
  })

  it('resumes a kept position, saying whether the change log must be read', () => {
    const s = source({ kept })
    const t = resolveTargets(s, ACCOUNT, { kind: 'names', names: ['a', 'c'] }, true)
    expect(planAnswer(s, 1, t, { epoch: 'e1', seq: 2 }, MAX)).toEqual({ kind: 'resumed', since: 2, deep: true, removed: [] })
    expect(planAnswer(s, 1, t, { epoch: 'e1', seq: 4 }, MAX)).toEqual({ kind: 'resumed', since: 4, deep: false, removed: [] })
  })

  it('catches a named subscription up with its own instances only, a "*" one with all', () => {
    const s = source({ kept })
    const named = resolveTargets(s, ACCOUNT, { kind: 'names', names: ['a', 'c'] }, true)
    const a = planAnswer(s, 1, named, { epoch: 'e1', seq: 2 }, MAX)
    expect([1, 2, 3].map((id) => follows(named, a)!(id))).toEqual([true, false, true])
    expect(follows(resolveTargets(s, ACCOUNT, { kind: 'all' }, true), a)).toBeNull()
  })

  it('answers a position of another epoch, one no longer kept, or one further back than the replay bound with a snapshot', () => {
    const s = source({ kept })
    const t = resolveTargets(s, ACCOUNT, { kind: 'all' }, true)
    expect(planAnswer(s, 1, t, { epoch: 'e0', seq: 2 }, MAX).kind).toBe('snapshot')
    expect(planAnswer(source({ kept: null }), 1, t, { epoch: 'e1', seq: 2 }, MAX).kind).toBe('snapshot')
    expect(planAnswer(s, 1, t, { epoch: 'e1', seq: 2 }, 2).kind).toBe('snapshot')
    expect(planAnswer(s, 1, t, { epoch: 'e1', seq: 2 }, 3).kind).toBe('resumed')
  })

  it('replays the removal of a name deleted while the client was away', () => {
    const s = source({ kept: [change(3, 1), change(4, 2, 'removed', 'b')] })
    s.deleted.add(2)
    const t = resolveTargets(s, ACCOUNT, { kind: 'names', names: ['a', 'b'] }, true)
    expect(t.gone).toEqual(['b'])
    const a = planAnswer(s, 1, t, { epoch: 'e1', seq: 2 }, MAX)
    expect(a).toEqual({ kind: 'resumed', since: 2, deep: true, removed: [2] })
    expect(follows(t, a)!(2)).toBe(true)
  })

  it('answers with a snapshot when a gone name\'s removal is not among the kept changes', () => {
    const s = source({ kept: [change(3, 1)] })
    const a = planAnswer(s, 1, resolveTargets(s, ACCOUNT, { kind: 'names', names: ['a', 'never'] }, true), { epoch: 'e1', seq: 2 }, MAX)
    expect(a.kind === 'snapshot' && a.items.map(String)).toEqual(['{"name":"a"}'])
  })
})
