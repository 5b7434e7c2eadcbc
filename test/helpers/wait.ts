/**
 * Waiting on conditions, never on fixed sleeps: `until` polls a check until it holds and fails
 * with what it waited for (and the last value it saw) when it does not within `ms`.
 */
export interface UntilOptions {
  /** What is awaited, for the failure message. */
  what?: string
  ms?: number
  /** The last value seen, for the failure message. */
  detail?: () => unknown
  /** The whole failure message instead (a process's full output, say, which `detail` would cut). */
  message?: () => string
}

export async function until(check: () => boolean | Promise<boolean>, opts: UntilOptions | string = {}): Promise<void> {
  const o = typeof opts === 'string' ? { what: opts } : opts
  const ms = o.ms ?? 5000
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) {
      if (o.message !== undefined) throw new Error(o.message())
      const detail = o.detail === undefined ? '' : `; last: ${JSON.stringify(o.detail()).slice(0, 600)}`
      throw new Error(`timed out after ${ms} ms waiting for ${o.what ?? 'a condition'}${detail}`)
    }
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Polls `f` until `ok` holds for its value, and returns that value. */
export async function untilValue<T>(f: () => Promise<T> | T, ok: (v: T) => boolean, opts: Omit<UntilOptions, 'detail'> = {}): Promise<T> {
  let last: T | undefined
  await until(
    async () => {
      last = await f()
      return ok(last)
    },
    { ...opts, detail: () => last },
  )
  return last as T
}
