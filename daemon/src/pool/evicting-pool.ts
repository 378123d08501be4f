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

/**
 * A generic-pool whose evictor passes remove idle resources that `isDead` says are gone, whatever
 * their idle time, so the pool replaces them without waiting for a borrower to trip over them.
 */
export function createEvictingPool<T>(factory: Factory<T>, options: Options, isDead: (resource: T) => boolean): Pool<T> {
  class DeadResourceEvictor implements Evictor<T> {
    evict(_config: unknown, resource: PooledResource<T>): boolean {
      return isDead(resource.obj);
    }
  }
  return new lib.Pool<T>(DeadResourceEvictor, lib.Deque, lib.PriorityQueue, factory, options);
}
