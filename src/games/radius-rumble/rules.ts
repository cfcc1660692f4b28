// The rules of Radius Rumble as the series plays them (spawning, movement, dropping and eating spores
// and players), as pure functions.

export const TICK_SECONDS = 0.05;
export const SPAWN_BOUND = 3000;
export const SPAWN_TRIES_BEFORE_WIDENING = 25;
export const PLAYER_START_RADIUS = 20;
export const PLAYER_SPEED = 150;
/** Extra reach, in units, allowed to every consumption claim (lag between client and server). */
export const REACH_SLACK = 10;
export const MAX_SPORES = 1000;
export const SPORES_PER_REPLENISH = 10;
export const REPLENISH_SECONDS = 2;
export const SPORES_PER_BATCH = 20;

export interface Circle {
  x: number;
  y: number;
  radius: number;
}

export const massOf = (radius: number): number => Math.PI * radius * radius;
export const radiusOf = (mass: number): number => Math.sqrt(Math.max(0, mass) / Math.PI);

/** The radius after taking in `eatenRadius`'s mass: sqrt((πR² + πr²) / π). */
export const grownRadius = (radius: number, eatenRadius: number): number => radiusOf(massOf(radius) + massOf(eatenRadius));

export const bestScoreOf = (radius: number): number => Math.round(massOf(radius));

export function moved(x: number, y: number, direction: number, speed: number, dt: number): { x: number; y: number } {
  return { x: x + speed * Math.cos(direction) * dt, y: y + speed * Math.sin(direction) * dt };
}

/** distance² between the centres <= (eater radius + slack + other radius)². */
export function withinReach(eater: Circle, other: Circle): boolean {
  const dx = eater.x - other.x;
  const dy = eater.y - other.y;
  const reach = eater.radius + REACH_SLACK + other.radius;
  return dx * dx + dy * dy <= reach * reach;
}

export function overlaps(a: Circle, b: Circle): boolean {
  const dx = a.x - b.x;
  const dy = a.y - b.y;
  const r = a.radius + b.radius;
  return dx * dx + dy * dy < r * r;
}

/** A player may eat another whose mass is less than its own by more than half again. */
export const canEatPlayer = (eaterRadius: number, victimRadius: number): boolean => massOf(eaterRadius) > 1.5 * massOf(victimRadius);

/** Each tick a player bigger than 10 drops a spore with probability radius / 5000. */
export const dropChance = (radius: number): number => (radius > 10 ? radius / 5000 : 0);
export const droppedSporeRadius = (playerRadius: number): number => Math.min(5 + playerRadius / 50, 15);

/** How long a player must wait before eating a spore it dropped itself. */
export const dropCooldownSeconds = (sporeRadius: number, playerRadius: number, speed: number): number =>
  (sporeRadius + playerRadius + REACH_SLACK) / speed;

/** A new spore's radius from a standard normal sample: max(10 + N(0,1)·3, 5). */
export const sporeRadiusFrom = (normalSample: number): number => Math.max(10 + normalSample * 3, 5);

/**
 * A spawn point in [-bound, bound]² where a circle of `radius` overlaps nothing `isFree` rejects;
 * after every 25 failed tries the bound doubles.
 */
export function spawnPoint(radius: number, random: () => number, isFree: (c: Circle) => boolean, startBound = SPAWN_BOUND): { x: number; y: number } {
  let bound = startBound;
  for (let tries = 1; ; tries++) {
    const candidate = { x: (random() * 2 - 1) * bound, y: (random() * 2 - 1) * bound, radius };
    if (isFree(candidate)) return { x: candidate.x, y: candidate.y };
    if (tries % SPAWN_TRIES_BEFORE_WIDENING === 0) bound *= 2;
  }
}
