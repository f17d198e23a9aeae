import type { Snippet } from 'svelte';

/** What every dialog of the kit takes: Modal (centred) and Drawer (from the side). */
export interface DialogProps {
  open: boolean;
  title: string;
  description?: string;
  children: Snippet;
  testid?: string;
}
