import { describe, expect, expectTypeOf, it } from 'vitest'
import type { z } from 'zod'
import { defaultConfig } from '../core/integrations.js'
import { renderRyzeItem, renderWachatItem, type RyzeItem } from '../core/item.js'
import { initialStatus } from '../core/status.js'
import { ryzeItem, wachatItem } from './rest-responses.js'

const record = () => ({
  id: 7,
  accountId: 1,
  name: 'sales',
  apiInstanceName: 't1_k3j9x0qa_sales',
  createdAt: '2026-12-01T10:00:00.000Z',
  updatedAt: '2026-12-01T10:05:00.000Z',
  version: 3,
  status: { ...initialStatus('2026-12-01T10:05:00.000Z'), reason: { code: 428, name: 'connectionClosed', message: 'Connection Terminated' } },
  config: defaultConfig(),
})

describe('list item schemas', () => {
  it('describe exactly the types the renderers return', () => {
    expectTypeOf<z.infer<typeof ryzeItem>>().toEqualTypeOf<RyzeItem>()
    expectTypeOf<z.infer<typeof wachatItem>>().toEqualTypeOf<ReturnType<typeof renderWachatItem>>()
  })

  it('accept what the renderers render, and refuse a field more', () => {
    const item = renderRyzeItem(record())
    expect(ryzeItem.parse(item)).toEqual(item)
    expect(wachatItem.parse(renderWachatItem(record()))).toEqual(renderWachatItem(record()))
    expect(ryzeItem.safeParse({ ...item, token: 'x' }).success).toBe(false)
  })
})
