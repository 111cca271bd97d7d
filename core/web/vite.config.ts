/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The production build goes where the core's go:embed picks it up
// (core/internal/web/dist/ui); `npm run dev` serves the UI with hot reload
// and passes /api (and its WebSockets) to a core on 127.0.0.1:8080.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "../internal/web/dist/ui",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: {
      "/api": { target: "http://127.0.0.1:8080", ws: true },
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
  },
});
