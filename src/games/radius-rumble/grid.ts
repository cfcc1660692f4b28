// A uniform grid over the plane, so that "what is near this point" looks at a few cells, not at the
// whole world.
import type { Circle } from "./rules.ts";

export class SpatialGrid<T extends Circle & { id: number }> {
  private readonly cells = new Map<number, Map<number, T>>();
  private readonly cellOf = new Map<number, number>();

  constructor(private readonly cellSize = 256) {}

  private key(x: number, y: number): number {
    // Cells are indexed in a ±2^20 range on each axis; far enough for any spawn bound doubling.
    const cx = Math.floor(x / this.cellSize) + (1 << 20);
    const cy = Math.floor(y / this.cellSize) + (1 << 20);
    return cx * (1 << 21) + cy;
  }

  insert(item: T): void {
    const key = this.key(item.x, item.y);
    let cell = this.cells.get(key);
    if (!cell) this.cells.set(key, (cell = new Map()));
    cell.set(item.id, item);
    this.cellOf.set(item.id, key);
  }

  remove(item: T): void {
    const key = this.cellOf.get(item.id);
    if (key === undefined) return;
    const cell = this.cells.get(key);
    cell?.delete(item.id);
    if (cell?.size === 0) this.cells.delete(key);
    this.cellOf.delete(item.id);
  }

  /** Call after the item's x or y changed. */
  moved(item: T): void {
    if (this.cellOf.get(item.id) === this.key(item.x, item.y)) return;
    this.remove(item);
    this.insert(item);
  }

  /** Whether any item within `reach` of the circle's edge satisfies `test`. */
  some(circle: Circle, reach: number, test: (item: T) => boolean): boolean {
    const span = circle.radius + reach;
    const x0 = Math.floor((circle.x - span) / this.cellSize);
    const x1 = Math.floor((circle.x + span) / this.cellSize);
    const y0 = Math.floor((circle.y - span) / this.cellSize);
    const y1 = Math.floor((circle.y + span) / this.cellSize);
    for (let cx = x0; cx <= x1; cx++) {
      for (let cy = y0; cy <= y1; cy++) {
        const cell = this.cells.get((cx + (1 << 20)) * (1 << 21) + (cy + (1 << 20)));
        if (!cell) continue;
        for (const item of cell.values()) if (test(item)) return true;
      }
    }
    return false;
  }
}
