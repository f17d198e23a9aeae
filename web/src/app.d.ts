// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
  namespace App {
    interface Error {
      message: string;
    }
    interface PageState {
      /** The file viewer was opened on this page (lib/viewer): Back closes it. */
      viewer?: boolean;
    }
  }
}

export {};
