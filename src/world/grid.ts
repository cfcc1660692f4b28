// A uniform grid of cells over the plane, keyed by cell: "what is near this point" looks at a few
// cells, never at the whole world. Entities move cells only when they cross a border.

/** Cells are indexed in a ±2^20 range on each axis. */
const OFFSET = 1 << 20;
const SPAN = 1 << 21;

export interface Placed {
  x: number;
  y: number;
}

export class CellGrid<T extends Placed> {
  private readonly cells = new Map<number, Set<T>>();
  private readonly cellOf = new Map<T, number>();

  constructor(readonly cellSize: number) {}

  keyOf(x: number, y: number): number {
    return (Math.floor(x / this.cellSize) + OFFSET) * SPAN + (Math.floor(y / this.cellSize) + OFFSET);
  }

  insert(item: T): void {
    const key = this.keyOf(item.x, item.y);
    let cell = this.cells.get(key);
    if (!cell) this.cells.set(key, (cell = new Set()));
    cell.add(item);
    this.cellOf.set(item, key);
  }

  has(item: T): boolean {
    return this.cellOf.has(item);
  }

  remove(item: T): void {
    const key = this.cellOf.get(item);
    if (key === undefined) return;
    const cell = this.cells.get(key);
    cell?.delete(item);
    if (cell?.size === 0) this.cells.delete(key);
    this.cellOf.delete(item);
  }

  /** Call after the item's x or y changed. */
  moved(item: T): void {
    if (this.cellOf.get(item) === this.keyOf(item.x, item.y)) return;
    this.remove(item);
    this.insert(item);
  }

  /** Calls `visit` with every item in the cells that a square of half-side `reach` around (x, y) touches. */
  near(x: number, y: number, reach: number, visit: (item: T) => void): void {
    const size = this.cellSize;
    const x0 = Math.floor((x - reach) / size) + OFFSET;
    const x1 = Math.floor((x + reach) / size) + OFFSET;
    const y0 = Math.floor((y - reach) / size) + OFFSET;
    const y1 = Math.floor((y + reach) / size) + OFFSET;
    for (let cx = x0; cx <= x1; cx++) {
      for (let cy = y0; cy <= y1; cy++) {
        const cell = this.cells.get(cx * SPAN + cy);
        if (cell) for (const item of cell) visit(item);
      }
    }
  }
}
