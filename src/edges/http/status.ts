/**
 * @module HTTP status codes: the status line of each code the hub answers, and the code of each
 * HubError kind (errors name kinds; only this edge knows HTTP).
 */
import type { ErrorKind } from '../../core/errors.js'

const STATUS: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  204: '204 No Content',
  304: '304 Not Modified',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  409: '409 Conflict',
  413: '413 Payload Too Large',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  502: '502 Bad Gateway',
  503: '503 Service Unavailable',
  504: '504 Gateway Timeout',
}

export function statusLine(code: number): string {
  return STATUS[code] ?? `${code} Status`
}

export const HTTP_STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  notFound: 404,
  conflict: 409,
  rateLimited: 429,
  upstream: 502,
  unavailable: 503,
  timeout: 504,
}
