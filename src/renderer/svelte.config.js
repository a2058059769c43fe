// Vite's root is this folder, where the Svelte plugin looks for its config: the project's one.
export { default } from '../../svelte.config.js';
