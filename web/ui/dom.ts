// The few DOM helpers every panel uses.

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`missing #${id}`)
  return element as T
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value)
  if (text !== undefined) node.textContent = text
  return node
}

export function setTitle(selector: string, title: string | null): void {
  const node = document.querySelector(selector)
  if (node === null) return
  if (title === null) node.removeAttribute('title')
  else node.setAttribute('title', title)
}
