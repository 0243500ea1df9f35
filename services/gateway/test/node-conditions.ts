import { register } from 'node:module';

// WORKAROUND for the root vitest.config.ts: `ssr.resolve.conditions: ['source']` makes vitest
// start its workers with `--conditions source`, so Node also resolves the "source" export
// condition of packages in node_modules. `eventsource` and `eventsource-parser` (used by the MCP
// client) publish `"source": "./src/index.ts"`, which Node 20 cannot load. This hook drops the
// condition for imports made from inside node_modules. Delete it once the workspace condition
// has a unique name (e.g. "@qsys-mcp/source") or the client is inlined.
const hook = `
export async function resolve(specifier, context, next) {
  if (context.parentURL !== undefined && context.parentURL.includes('/node_modules/') && context.conditions.includes('source')) {
    return next(specifier, { ...context, conditions: context.conditions.filter((c) => c !== 'source') });
  }
  return next(specifier, context);
}
`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
