export type ToastKind = 'success' | 'error' | 'info';

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

let nextId = 1;
const timers: Record<number, ReturnType<typeof setTimeout>> = {};

export const toasts = $state<Toast[]>([]);

export function dismissToast(id: number): void {
  const index = toasts.findIndex((t) => t.id === id);
  if (index >= 0) toasts.splice(index, 1);
  clearTimeout(timers[id]);
  delete timers[id];
}

function push(kind: ToastKind, message: string, duration: number): number {
  const id = nextId++;
  toasts.push({ id, kind, message });
  if (toasts.length > 4) dismissToast(toasts[0]!.id);
  timers[id] = setTimeout(() => dismissToast(id), duration);
  return id;
}

/** Short confirmations and failures that do not belong to a form. */
export const toast = {
  success: (message: string) => push('success', message, 4000),
  info: (message: string) => push('info', message, 5000),
  error: (message: string) => push('error', message, 8000),
};
