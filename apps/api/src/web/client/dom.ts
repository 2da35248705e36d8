/** The element with this id, of the expected kind; a missing or different element is a bug in index.html. */
export function byId<T extends HTMLElement>(id: string, kind: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof kind)) throw new Error(`#${id} is missing or not a ${kind.name}`);
  return el;
}

/** A status line: `aria-live` regions read the new text out, the class colours it. */
export function say(el: HTMLElement, text: string, tone: 'ok' | 'err' | '' = ''): void {
  el.textContent = text;
  el.className = tone;
}
