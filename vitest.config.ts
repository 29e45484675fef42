import { defineConfig } from 'vitest/config';

// Unit tests are fast and run everywhere; integration suites talk to PostgreSQL, spawn MCP servers
// or run the CLI, so they get longer timeouts and run in their own project.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**'],
          // Hang guards for a loaded 2-core CI machine, not speed limits (speed belongs to `npm run bench`).
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
