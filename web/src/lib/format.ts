import { format, formatDistanceToNowStrict, isThisYear } from 'date-fns';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 1234567 → "1.2 MB" (decimal units, as file managers show them). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1000) return `${bytes} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${UNITS[unit]}`;
}

export function formatSpeed(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/** "Mar 4, 14:05" this year, "Mar 4, 2025" before. */
export function formatDate(iso: string): string {
  const date = new Date(iso);
  return isThisYear(date) ? format(date, 'MMM d, HH:mm') : format(date, 'MMM d, yyyy');
}

/** "Mar 4, 2026, 14:05:09": full date and time, for titles and tooltips (24-hour, as elsewhere). */
export function formatDateTime(iso: string): string {
  return format(new Date(iso), 'PP, HH:mm:ss');
}

/** "just now", "5 minutes ago", "in 3 days". */
export function formatRelative(iso: string): string {
  const date = new Date(iso);
  if (Math.abs(Date.now() - date.getTime()) < 45_000) return 'just now';
  return formatDistanceToNowStrict(date, { addSuffix: true });
}

/** The text with its first letter in capitals ("files" → "Files"). */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** An avatar's letters: the first of the first two words ("Maya Chen" → "MC"), whole characters. */
export function initials(name: string | null | undefined): string {
  const letters = (name ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => Array.from(word)[0]!.toUpperCase());
  return letters.join('') || '?';
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}
