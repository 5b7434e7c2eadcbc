/**
 * @module Names and filters: what an instance or account may be called, and how the list filter
 * `?instanceName=a,b` is normalised (so equal filters share one cache entry).
 */

export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name)
}

/**
 * `null` when there is no filter; otherwise the distinct trimmed names, sorted. A filter of only
 * commas and spaces normalises to an empty array (an empty list, not an error).
 */
export function normaliseFilter(raw: string | undefined): string[] | null {
  if (raw === undefined) return null
  // The common poll names one instance.
  if (!raw.includes(',')) {
    const name = raw.trim()
    return name === '' ? [] : [name]
  }
  const names = new Set<string>()
  for (const part of raw.split(',')) {
    const name = part.trim()
    if (name !== '') names.add(name)
  }
  return [...names].sort()
}

/** `t<accountId>_<8 random base36 chars>_<name>`: unique across accounts, like Wachat's internal names. */
export function apiInstanceName(accountId: number, random8: string, name: string): string {
  return `t${accountId}_${random8}_${name}`
}
