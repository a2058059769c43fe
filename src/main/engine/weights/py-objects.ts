/**
 * The values the restricted unpickler produces for Python objects: references to allow-listed
 * globals and inert instances. Nothing here can execute code; an instance only records its
 * constructor arguments and the state BUILD gave it.
 */

/** A Python global resolved by the allow-list. */
export class PyGlobal {
  /**
   * @param qualname `module.name`, e.g. `models.common.Conv`.
   * @param call Pure reconstructor; when absent, calling the global creates an inert PyObject.
   */
  constructor(
    readonly qualname: string,
    readonly call?: (args: unknown[]) => unknown,
  ) {}
}

/** An inert instance of an allow-listed class: its constructor arguments and BUILD state. */
export class PyObject {
  constructor(
    readonly __class__: string,
    readonly args: unknown[],
    public state: unknown = undefined,
  ) {}
  /** Called by BUILD; instances of specific classes may override to decode their state. */
  setState(state: unknown): void {
    // Python's default __setstate__: a (dict, slots) pair or a dict merged into __dict__
    const dict = Array.isArray(state) && state.length === 2 && state[0] instanceof Map ? state[0] : state;
    if (this.state instanceof Map && dict instanceof Map) {
      for (const [k, v] of dict) this.state.set(k, v);
    } else {
      this.state = dict;
    }
  }
}

/** What the unpickler needs from its caller. */
export interface UnpicklerHooks {
  /** Resolves `module.name` or throws (UnsafeCheckpointError) to refuse it. */
  findGlobal(module: string, name: string): PyGlobal;
  /** Resolves a persistent id (BINPERSID), e.g. a torch storage reference. */
  persistentLoad(pid: unknown): unknown;
}
