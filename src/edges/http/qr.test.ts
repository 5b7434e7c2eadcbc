import { describe, expect, it } from 'vitest'
import { qrDataUri } from './qr.js'

describe('qrDataUri', () => {
  it('renders the QR string as a base64 PNG data URI', async () => {
    const uri = await qrDataUri('2@ref1,noiseB64,identityB64,advB64')
    expect(uri.startsWith('data:image/png;base64,')).toBe(true)
    const png = Buffer.from(uri.slice('data:image/png;base64,'.length), 'base64')
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
  })
})
