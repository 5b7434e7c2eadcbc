/**
 * @module The accounts a cluster node writes: one node at a time orders each account's changes
 * (its writer lease, spec/cluster.md "Ownership"), and what must happen once per account, in the
 * order of its changes (its webhook deliveries), happens there. A node that can no longer prove
 * it writes an account is told so before another node can take the account over (self-fencing).
 */
export interface Writerships {
  /** Whether this node may write accounts at all (workers only). */
  readonly eligible: boolean
  /** Called synchronously when this node starts writing the account, before its first append. */
  onGained(fn: (accountId: number) => void): void
  /** Called at once when this node stops writing the account (taken over or fenced). */
  onLost(fn: (accountId: number) => void): void
  holds(accountId: number): boolean
  /** Of these accounts, the ones no node writes now. */
  unwritten(accountIds: readonly number[]): Promise<number[]>
  /** Becomes the account's writer unless another node is; whether this node writes it afterwards. */
  claim(accountId: number): Promise<boolean>
}
