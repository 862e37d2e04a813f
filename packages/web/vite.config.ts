import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev -w packages/web` serves the dashboard with hot reload and sends the API and the
// realtime socket to a running server (SYNCDECK_URL, default the server's default port).
const target = process.env.SYNCDECK_URL ?? 'http://localhost:8080';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  server: {
    proxy: {
      '/api': { target, changeOrigin: false, ws: true },
      '/ws': { target, changeOrigin: false, ws: true },
      '/readyz': { target },
    },
  },
});
