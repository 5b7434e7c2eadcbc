/**
 * @module REST calls from the dashboard: same origin, the token in the `token` header (never in
 * the page URL), and errors carrying the API's own `error.message` word for word.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export type Api = (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => Promise<Record<string, any>>

export function apiWith(token: string): Api {
  return async (method, path, body) => {
    const headers: Record<string, string> = { token }
    if (body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' })
    } catch {
      throw new ApiError(0, 'The hub is not reachable')
    }
    let json: Record<string, any> | null = null
    try {
      json = (await res.json()) as Record<string, any>
    } catch {
      json = null
    }
    if (!res.ok || json === null || json.success === false) {
      const message = typeof json?.error?.message === 'string' ? json.error.message : `HTTP ${res.status}`
      throw new ApiError(res.status, message)
    }
    return json
  }
}

/** `/api/instance/connect/a%20b`: names are path segments, never raw. */
export function instancePath(prefix: string, name: string): string {
  return `${prefix}/${encodeURIComponent(name)}`
}
