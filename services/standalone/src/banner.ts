/** What the ready banner of the standalone process needs to know. */
export interface BannerOptions {
  /** The MCP endpoint, e.g. `http://127.0.0.1:8080/mcp`. */
  readonly url: string;
  /** The built-in simulator serves as the Core. */
  readonly simulated: boolean;
  /** Authentication on, and how many API keys are configured. */
  readonly auth: { readonly enabled: boolean; readonly keyCount: number };
  /** The audit store, when the audit trail is on. */
  readonly auditDb: string | undefined;
}

const INSPECTOR = 'npx -y @modelcontextprotocol/inspector@2.12.0';

/**
 * The lines the standalone process prints on stderr when it serves over HTTP: the endpoint and
 * commands that work as printed. With authentication on, the audit log command carries a key
 * header (`GET /audit` needs an admin key), and without any key configured the banner says that
 * only the anonymous tools answer instead of suggesting a request that would get 401.
 */
export function readyBanner(o: BannerOptions): string {
  const base = o.url.replace(/\/mcp$/, '');
  const lines = [
    '',
    `Q-SYS MCP server ready${o.simulated ? ' (simulated Core)' : ''}`,
    `  MCP endpoint: ${o.url}`,
    `  Try it:       ${INSPECTOR} --cli ${o.url} --transport http --method tools/list`,
    `  Health:       curl ${base}/health`,
  ];
  if (o.auth.enabled && o.auth.keyCount === 0) {
    lines.push('  Note:         authentication is on and no API key is configured: only the anonymous tools (allowAnonymous) answer; set MCP_API_KEYS');
    if (o.auditDb !== undefined) lines.push(`  Audit log:    stored in ${o.auditDb}; GET ${base}/audit needs an admin API key`);
  } else if (o.auditDb !== undefined) {
    const header = o.auth.enabled ? "-H 'X-API-Key: <an admin key of MCP_API_KEYS>' " : '';
    lines.push(`  Audit log:    curl ${header}'${base}/audit?limit=10'  (stored in ${o.auditDb})`);
  }
  return `${lines.join('\n')}\n\n`;
}
