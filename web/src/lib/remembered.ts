/**
 * Choices remembered in this browser (localStorage). Storage may be off (private mode, policies,
 * a full quota): then nothing is recalled and the choice holds for this page only.
 */

export function recall(key: string): string | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function remember(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Not remembered; the choice still holds on this page.
  }
}
