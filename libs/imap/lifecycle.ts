/**
 * A lifecycle as a state machine: a discriminated union of states (each with its own data, keyed
 * by `phase`) and one table of the phases each phase may move to. `transition()` is the only way
 * to change state. From a phase named literally, a move the table does not list is a type error;
 * from a phase only known at run time, it throws.
 */
export type TransitionTable<P extends string> = { readonly [K in P]: readonly P[] };

export interface Phased {
  readonly phase: string;
}

export type StateIn<S extends Phased, P extends S['phase']> = Extract<S, { phase: P }>;

export class IllegalTransition extends Error {
  override name = 'IllegalTransition';
}

export class Lifecycle<S extends Phased, T extends TransitionTable<S['phase']>> {
  private state: S;

  constructor(
    initial: S,
    private readonly table: T,
    private readonly observer?: (from: S, to: S) => void,
  ) {
    this.state = initial;
  }

  /** A call, not a getter: TypeScript must not carry a narrowing of it across an await. */
  current(): S {
    return this.state;
  }

  /**
   * Moves from `from` to `next`. Returns false, changing nothing, when the lifecycle is no longer
   * in `from` (the event that asked for the move is stale: a failure after a stop, a stop after a
   * failure); throws on a move the table does not allow.
   */
  transition<F extends S['phase']>(from: F, next: StateIn<S, T[F][number]>): boolean {
    const previous = this.state;
    if (previous.phase !== from) return false;
    if (!this.table[from].includes(next.phase)) throw new IllegalTransition(`${from} -> ${next.phase}`);
    this.state = next;
    this.observer?.(previous, next);
    return true;
  }
}
