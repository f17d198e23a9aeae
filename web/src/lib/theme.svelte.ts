import { recall, remember } from './remembered';

export type Theme = 'light' | 'dark';

// Keep in sync with the inline script in src/app.html, which applies the theme before paint.
const STORAGE_KEY = 'cabinet-theme';

function initial(): Theme {
  if (typeof document === 'undefined') return 'light';
  return document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light';
}

let current = $state<Theme>(initial());

function apply(theme: Theme) {
  current = theme;
  document.documentElement.dataset.theme = theme;
  document.documentElement.style.colorScheme = theme;
}

function chosen(): Theme | null {
  const value = recall(STORAGE_KEY);
  return value === 'light' || value === 'dark' ? value : null;
}

if (typeof window !== 'undefined') {
  const system = window.matchMedia('(prefers-color-scheme: dark)');
  // The inline script chose before this module loaded, and a change of the system's theme in
  // between fired no event here: look again.
  if (chosen() === null) apply(system.matches ? 'dark' : 'light');
  // Until the user picks a theme, follow the system as it changes.
  system.addEventListener('change', (event) => {
    if (chosen() === null) apply(event.matches ? 'dark' : 'light');
  });
  // Another tab switched themes.
  window.addEventListener('storage', (event) => {
    if (event.key === STORAGE_KEY && (event.newValue === 'light' || event.newValue === 'dark')) {
      apply(event.newValue);
    }
  });
}

export const theme = {
  get current(): Theme {
    return current;
  },
  set(next: Theme): void {
    apply(next);
    remember(STORAGE_KEY, next);
  },
  toggle(): void {
    theme.set(current === 'dark' ? 'light' : 'dark');
  },
};
