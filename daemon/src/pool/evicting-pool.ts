import genericPool, { type Factory, type Options, type Pool } from 'generic-pool';

/** What generic-pool hands its evictor for each idle resource. */
interface PooledResource<T> {
  obj: T;
}

interface Evictor<T> {
  evict(config: unknown, resource: PooledResource<T>, availableCount: number): boolean;
}

type PoolConstructor = new <T>(
  evictor: new () => Evictor<T>,
  deque: unknown,
  priorityQueue: unknown,
  factory: Factory<T>,
  options: Options,
) => Pool<T>;

// generic-pool exports the Pool class with its evictor as a constructor argument (createPool is
// only `new Pool(DefaultEvictor, Deque, PriorityQueue, ...)`), but its type declarations name
// createPool alone: this is the one place that composes it by hand.
const lib = genericPool as unknown as { Pool: PoolConstructor; Deque: unknown; PriorityQueue: unknown };

/** The one generic-pool method that tops the pool up to `min` (it is what `start` and `destroy` call). */
interface Refill {
  _ensureMinimum(): void;
}

/** generic-pool's live options and the method that hands resources to waiting borrowers. */
interface Resizable extends Refill {
  _config: { min: number; max: number };
  _dispense(): void;
}

/**
 * A generic-pool whose evictor passes remove idle resources that `isDead` says are gone, whatever
 * their idle time, so the pool replaces them without waiting for a borrower to trip over them.
 * A failed creation is tried again after `retryMs` (the factory backs off on repeated failures):
 * generic-pool itself only tops up to `min` on start and when a resource is destroyed, so one
 * failure with nobody waiting would leave the pool short for good.
 */
export function createEvictingPool<T>(factory: Factory<T>, options: Options, isDead: (resource: T) => boolean, retryMs = 100): Pool<T> {
  class DeadResourceEvictor implements Evictor<T> {
    // Beyond the dead: idle resources above `min` (the pool was resized down) go one by one;
    // generic-pool counts `availableCount` down as each is removed.
    evict(config: { min: number }, resource: PooledResource<T>, availableCount: number): boolean {
      return isDead(resource.obj) || availableCount > config.min;
    }
  }
  const pool = new lib.Pool<T>(DeadResourceEvictor, lib.Deque, lib.PriorityQueue, factory, options);
  const refill = pool as unknown as Refill;
  const resizable = pool as unknown as Partial<Resizable>;
  if (typeof refill._ensureMinimum !== 'function' || typeof resizable._dispense !== 'function' || typeof resizable._config?.min !== 'number') {
    throw new Error('generic-pool changed: Pool._ensureMinimum, _dispense or _config is gone (see daemon/src/pool/evicting-pool.ts)');
  }
  pool.on('factoryCreateError', () => {
    // It checks the pool's own draining flag, so a pool being closed is not refilled.
    setTimeout(() => refill._ensureMinimum(), retryMs).unref();
  });
  return pool;
}

/**
 * Changes a pool made by createEvictingPool to keep `min` idle-or-starting resources and at most
 * `max` in all. generic-pool has no resize: its options are read live, so raising them and asking
 * it to top up and to serve waiters is enough; lowering `min` lets the evictor remove the surplus
 * idle resources on its next pass (borrowed ones are never touched).
 */
export function resizePool<T>(pool: Pool<T>, min: number, max: number): void {
  const inner = pool as unknown as Resizable;
  if (!(min >= 0 && max >= 1 && min <= max)) throw new RangeError(`resizePool: need 0 <= min <= max and max >= 1, got min ${min}, max ${max}`);
  if (inner._config.min === min && inner._config.max === max) return;
  inner._config.min = min;
  inner._config.max = max;
  inner._ensureMinimum();
  inner._dispense();
}
