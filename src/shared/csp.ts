/**
 * The Content-Security-Policy of every renderer page, in Electron and in the browser alike:
 * nothing but the app's own files and its own service; no eval, no remote content.
 * (`style-src 'unsafe-inline'` because Svelte and Chart.js set element styles.)
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
