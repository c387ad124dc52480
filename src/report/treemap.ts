/**
 * treemap.ts — the squarified treemap (Bruls, Huizing, van Wijk 2000): rectangles whose areas are
 * proportional to sizes, laid out row by row so that they stay close to squares. PURE.
 */

/** Rect is an axis-aligned rectangle. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** TreemapItem is one thing to lay out. */
export interface TreemapItem<T> {
  readonly size: number;
  readonly value: T;
}

/** worst is the largest aspect ratio of a row of areas laid along a side of length `side`. */
function worst(row: readonly number[], side: number): number {
  let sum = 0;
  let max = 0;
  let min = Number.POSITIVE_INFINITY;
  for (const a of row) {
    sum += a;
    if (a > max) max = a;
    if (a < min) min = a;
  }
  if (sum === 0 || side === 0) return Number.POSITIVE_INFINITY;
  const s2 = side * side;
  const sum2 = sum * sum;
  return Math.max((s2 * max) / sum2, sum2 / (s2 * min));
}

/**
 * squarify lays `items` out in `rect`, largest first; items of size 0 or less get no rectangle.
 * The areas sum to the rectangle's (within rounding).
 */
export function squarify<T>(
  items: readonly TreemapItem<T>[],
  rect: Rect,
): { readonly rect: Rect; readonly value: T }[] {
  const list = items.filter((i) => i.size > 0).sort((a, b) => b.size - a.size);
  const total = list.reduce((n, i) => n + i.size, 0);
  const out: { rect: Rect; value: T }[] = [];
  if (total === 0 || rect.w <= 0 || rect.h <= 0) return out;
  const scale = (rect.w * rect.h) / total;
  const areas = list.map((i) => i.size * scale);
  let { x, y, w, h } = rect;
  let start = 0;
  while (start < list.length) {
    const side = Math.min(w, h);
    let end = start + 1;
    // grow the row while its worst aspect ratio improves
    while (
      end < list.length &&
      worst(areas.slice(start, end + 1), side) <= worst(areas.slice(start, end), side)
    )
      end += 1;
    const row = areas.slice(start, end);
    const rowArea = row.reduce((n, a) => n + a, 0);
    if (w >= h) {
      // a column on the left, items stacked top to bottom
      const cw = h > 0 ? rowArea / h : 0;
      let cy = y;
      row.forEach((a, k) => {
        const ch = cw > 0 ? a / cw : 0;
        out.push({ rect: { x, y: cy, w: cw, h: ch }, value: list[start + k]!.value });
        cy += ch;
      });
      x += cw;
      w -= cw;
    } else {
      // a row on top, items left to right
      const rh = w > 0 ? rowArea / w : 0;
      let cx = x;
      row.forEach((a, k) => {
        const cw = rh > 0 ? a / rh : 0;
        out.push({ rect: { x: cx, y, w: cw, h: rh }, value: list[start + k]!.value });
        cx += cw;
      });
      y += rh;
      h -= rh;
    }
    start = end;
  }
  return out;
}
