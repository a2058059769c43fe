/**
 * URL routes in the hash, so Back and Forward move between sections and runs and a run's page can
 * be bookmarked: `#/runs`, `#/runs/12`, `#/explorer`, `#/compare`. The hash (not the path) works
 * both from Electron's file:// page and from the web host, and keeps the web host's `?token=`.
 */
import { SECTIONS, type SectionId } from './sections.js';

export interface Route {
  readonly section: SectionId;
  /** The run open in the Runs section. */
  readonly runId?: number;
}

/** The section a first launch, or an empty or unknown hash, opens on. */
export const DEFAULT_ROUTE: Route = { section: 'runs' };

/** The route a hash names, or undefined when it names none. */
export function parseRoute(hash: string): Route | undefined {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const section = SECTIONS.find((s) => s.id === parts[0])?.id;
  if (!section) return undefined;
  if (section === 'runs' && parts[1] !== undefined) {
    const id = Number(parts[1]);
    if (Number.isInteger(id) && id > 0) return { section, runId: id };
  }
  return { section };
}

export function formatRoute(route: Route): string {
  return route.runId !== undefined && route.section === 'runs' ? `#/runs/${route.runId}` : `#/${route.section}`;
}

export const sameRoute = (a: Route, b: Route): boolean => a.section === b.section && a.runId === b.runId;

/** The current route, following the browser's history. */
export class Router {
  route = $state.raw<Route>(DEFAULT_ROUTE);

  constructor() {
    const initial = parseRoute(location.hash);
    this.route = initial ?? DEFAULT_ROUTE;
    // A bare or unknown address shows its section in the URL too, without a history entry.
    if (!initial) history.replaceState(history.state, '', formatRoute(this.route));
  }

  /** Follows Back, Forward and typed hashes; returns the stop function. */
  listen(): () => void {
    const onChange = () => {
      const next = parseRoute(location.hash) ?? DEFAULT_ROUTE;
      if (!sameRoute(next, this.route)) this.route = next;
    };
    window.addEventListener('popstate', onChange);
    window.addEventListener('hashchange', onChange);
    return () => {
      window.removeEventListener('popstate', onChange);
      window.removeEventListener('hashchange', onChange);
    };
  }

  /** Goes to `route`: a new history entry, or in place of the current one with `replace`. */
  go(route: Route, replace = false): void {
    if (sameRoute(route, this.route)) return;
    const url = formatRoute(route);
    if (replace) history.replaceState(history.state, '', url);
    else history.pushState(history.state, '', url);
    this.route = route;
  }
}
