import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The production build goes to web/dist, which the api service serves at / (see
// services/api/src/routes/web.ts). `npm run dev -w web` proxies /api to a running Trapline.
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: { proxy: { '/api': 'http://127.0.0.1:9000' } },
});
