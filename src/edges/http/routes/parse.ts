/**
 * @module Body validation shared by the routes: a refused body is an `invalid` HubError (HTTP 400)
 * that names the field.
 */
import type { z } from 'zod'
import { HubError, MSG } from '../../../core/errors.js'
import { describeIssue } from '../../../protocol/rest-bodies.js'

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HubError('invalid', MSG.invalidBody)
  const parsed = schema.safeParse(body)
  if (!parsed.success) throw new HubError('invalid', describeIssue(parsed.error))
  return parsed.data
}
