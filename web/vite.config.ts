import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// `npm run dev -w web` proxies the API to a server started separately (`npm run serve`).
const api = process.env.CABINET_API ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [sveltekit()],
  server: {
    proxy: {
      '/graphql': api,
      '/files': api,
      '/healthz': api,
    },
  },
});
