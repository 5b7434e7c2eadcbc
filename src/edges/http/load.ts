/**
 * @module Loads uWebSockets.js and refuses the package's silent fallback: when the native binary
 * cannot load, the package quietly returns a slow `ws`-based shim. The hub would then run, slowly,
 * with nobody noticing. We fail at start instead.
 */
import uWS from 'uWebSockets.js'

export class NativeUwsMissing extends Error {
  override name = 'NativeUwsMissing'
}

export function isNativeUws(mod: { App: unknown }): boolean {
  return typeof mod.App === 'function' && Function.prototype.toString.call(mod.App).includes('[native code]')
}

export function loadUws(): typeof uWS {
  if (!isNativeUws(uWS)) {
    throw new NativeUwsMissing(
      `uWebSockets.js loaded its JavaScript fallback instead of the native binary ` +
        `(platform ${process.platform}-${process.arch}, Node ABI ${process.versions.modules}). ` +
        `The hub refuses to run in that slow mode: use Node 20 or 18 on linux/darwin x64/arm64, ` +
        `unset UWS_USE_FALLBACK, and reinstall with 'npm install'.`,
    )
  }
  return uWS
}
