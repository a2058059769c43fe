/**
 * A typed in-process event bus: the job runner and the service publish, hosts forward to their
 * clients. It lives with the jobs, the lowest room that publishes, so the service and jobs share it.
 */
import type { EventMessage, EventName, Events } from '../../shared/contract.js';

export type EventListener = (message: EventMessage) => void;

export class EventBus {
  readonly #listeners = new Set<EventListener>();

  emit<K extends EventName>(event: K, payload: Events[K]): void {
    const message = { event, payload } as EventMessage;
    for (const listener of this.#listeners) {
      try {
        listener(message);
      } catch (error) {
        // A broken subscriber (a closed socket, a destroyed window) must not stop the others.
        console.error(`event listener failed on ${event}:`, error);
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get size(): number {
    return this.#listeners.size;
  }
}
