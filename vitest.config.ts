import { defineConfig } from 'vitest/config';

// Workspace packages export their TypeScript source under the "@qsys-mcp/source" condition, so tests
// run against src/ without a build; processes spawned by e2e tests run the built dist/.
export default defineConfig({
  resolve: { conditions: ['@qsys-mcp/source'] },
  ssr: { resolve: { conditions: ['@qsys-mcp/source'], externalConditions: ['@qsys-mcp/source'] } },
  test: {
    include: ['libs/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/deploy/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
  },
});
