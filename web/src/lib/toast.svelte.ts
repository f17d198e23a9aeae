export type ToastKind = 'success' | 'error' | 'info';

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
  /** A button in the toast (e.g. Undo); pressing it dismisses the toast. */
  action?: { label: string; run: () => void };
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

function push(
  kind: ToastKind,
  message: string,
  duration: number,
  action?: Toast['action'],
): number {
  const id = nextId++;
  toasts.push({ id, kind, message, ...(action ? { action } : {}) });
  if (toasts.length > 4) dismissToast(toasts[0]!.id);
  timers[id] = setTimeout(() => dismissToast(id), duration);
  return id;
}

/** Short confirmations and failures that do not belong to a form. */
export const toast = {
  success: (message: string) => push('success', message, 4000),
  info: (message: string) => push('info', message, 5000),
  error: (message: string) => push('error', message, 8000),
  /** A confirmation with an Undo-like button, shown long enough to press it. */
  withAction: (message: string, label: string, run: () => void) =>
    push('success', message, 10000, { label, run }),
};
