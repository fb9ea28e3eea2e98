/** Grid multi-select: plain click selects one, Ctrl/Cmd+click toggles one, Shift+click extends from the anchor. */
export interface Selection {
  /** Image ids, in the order they were added. */
  ids: number[];
  /** Grid index the next Shift+click extends from. */
  anchor: number | null;
}

export const NO_SELECTION: Selection = { ids: [], anchor: null };

export function clickSelect(
  sel: Selection,
  index: number,
  id: number,
  mods: { toggle: boolean; extend: boolean },
  idAt: (i: number) => number | undefined,
): Selection {
  if (mods.extend && sel.anchor !== null) {
    const [a, b] = sel.anchor < index ? [sel.anchor, index] : [index, sel.anchor];
    const ids = new Set(sel.ids);
    for (let i = a; i <= b; i++) {
      const x = idAt(i);
      if (x !== undefined) ids.add(x);
    }
    return { ids: [...ids], anchor: sel.anchor };
  }
  if (mods.toggle) {
    const has = sel.ids.includes(id);
    // The first Ctrl+click keeps the image that was already focused, as file managers do.
    return { ids: has ? sel.ids.filter((x) => x !== id) : [...sel.ids, id], anchor: index };
  }
  return { ids: [id], anchor: index };
}
