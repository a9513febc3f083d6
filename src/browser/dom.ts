// What the pages share about their markup.

/** The element with this id; a page whose markup lacks it is a build defect, so it throws. */
export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}
