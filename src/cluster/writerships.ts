/**
 * @module Writerships (ports/writerships.ts) on the writer leases (`w.<accountId>`) and the
 * account writers: a claim is an empty operation run as the account's writer, which takes the
 * free lease and catches up with the account's last change like any first write.
 */
import type { Writerships } from '../ports/writerships.js'
import { idOf, K } from './keys.js'
import type { Leases } from './leases.js'
import { NotWriter, type Writers } from './writer.js'

export class LeaseWriterships implements Writerships {
  constructor(
    private readonly leases: Leases,
    private readonly writers: Writers,
    readonly eligible: boolean,
  ) {}

  onGained(fn: (accountId: number) => void): void {
    this.leases.onGained(writerLeaseOnly(fn))
  }

  onLost(fn: (accountId: number) => void): void {
    this.leases.onLost(writerLeaseOnly(fn))
  }

  holds(accountId: number): boolean {
    return this.leases.holds(K.writerLease(accountId))
  }

  async unwritten(accountIds: readonly number[]): Promise<number[]> {
    if (accountIds.length === 0) return []
    const held = await this.leases.heldInEngine('w.')
    return accountIds.filter((id) => !held.has(K.writerLease(id)))
  }

  async claim(accountId: number): Promise<boolean> {
    if (!this.eligible) return false
    try {
      await this.writers.run(accountId, async () => undefined)
      return true
    } catch (err) {
      if (err instanceof NotWriter) return false
      throw err
    }
  }
}

/** A lease listener that passes on writer leases only, as their account's id. */
function writerLeaseOnly(fn: (accountId: number) => void): (key: string) => void {
  return (key) => {
    const id = idOf(key, 'w')
    if (id !== null) fn(id)
  }
}
