/**
 * @module The one DOM helper: an element with a class and text. User-supplied values only ever
 * go through textContent or attributes, never innerHTML.
 */

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  if (className !== '') e.className = className
  if (text !== '') e.textContent = text
  return e
}

export function button(label: string, action: string, className = ''): HTMLButtonElement {
  const b = el('button', className, label)
  b.type = 'button'
  b.dataset.action = action
  return b
}

/** Sets text only when it differs: unchanged cards cost no layout. */
export function setText(e: HTMLElement, text: string): void {
  if (e.textContent !== text) e.textContent = text
}
