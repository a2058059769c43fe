/**
 * The colour theme: the OS's (default), or light or dark as chosen, remembered across launches.
 * The choice is a `data-theme` attribute on <html> that styles.css keys its colours on; charts
 * repaint on THEME_EVENT as they do when the OS switches.
 */
export type ThemeChoice = 'system' | 'light' | 'dark';
export const THEME_CHOICES: readonly ThemeChoice[] = ['system', 'light', 'dark'];
export const THEME_EVENT = 'freezelab-theme';
const KEY = 'freezelab.theme';

export function storedTheme(): ThemeChoice {
  try {
    const value = localStorage.getItem(KEY);
    return THEME_CHOICES.includes(value as ThemeChoice) ? (value as ThemeChoice) : 'system';
  } catch {
    return 'system'; // storage can be disabled; the OS theme is a fine fallback
  }
}

export function applyTheme(choice: ThemeChoice): void {
  const root = document.documentElement;
  if (choice === 'system') delete root.dataset.theme;
  else root.dataset.theme = choice;
  try {
    localStorage.setItem(KEY, choice);
  } catch {
    // Not remembered; still applied for this session.
  }
  window.dispatchEvent(new Event(THEME_EVENT));
}
