/** Suffix of the name of every suite skipped for want of ../shared (shared.ts adds it, the reporter counts it). */
export const SHARED_SKIP_MARK = '[needs ../shared]';
