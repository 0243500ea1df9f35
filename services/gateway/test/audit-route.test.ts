import { AppError } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import { parseAuditQuery } from '../src/audit/audit-route.js';

/** The `AppError` that parsing `query` throws. */
function refusal(query: string): AppError {
  try {
    parseAuditQuery(new URLSearchParams(query));
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error(`?${query} was accepted`);
}

const issuesOf = (err: AppError): Array<{ path: string; message: string }> => (err.details as { issues: Array<{ path: string; message: string }> }).issues;

describe('GET /audit query parameters', () => {
  it('turns dry_run=true and dry_run=false into the dryRun filter of audit.query', () => {
    expect(parseAuditQuery(new URLSearchParams('dry_run=true'))).toEqual({ dryRun: true });
    expect(parseAuditQuery(new URLSearchParams('dry_run=false'))).toEqual({ dryRun: false });
    expect(parseAuditQuery(new URLSearchParams('dry_run=true&success=false&tool=qsys.set_control&limit=5'))).toEqual({
      dryRun: true,
      success: false,
      tool: 'qsys.set_control',
      limit: 5,
    });
    expect(parseAuditQuery(new URLSearchParams(''))).toEqual({});
  });

  it('refuses a dry_run value other than true or false with INVALID_PARAMS naming dry_run', () => {
    for (const bad of ['dry_run=yes', 'dry_run=1', 'dry_run=TRUE', 'dry_run=', 'dry_run']) {
      const err = refusal(bad);
      expect(err.code, bad).toBe('INVALID_PARAMS');
      expect(err.status, bad).toBe(400);
      expect(issuesOf(err), bad).toEqual([{ path: 'dry_run', message: expect.stringContaining('expected true or false') }]);
      expect(err.message, bad).toContain('dry_run');
    }
  });

  it('refuses a repeated dry_run and the field name dryRun, which is not a query parameter', () => {
    expect(issuesOf(refusal('dry_run=true&dry_run=false'))).toEqual([{ path: 'dry_run', message: 'given more than once' }]);
    const camel = issuesOf(refusal('dryRun=true'));
    expect(camel).toHaveLength(1);
    expect(camel[0]).toMatchObject({ path: 'dryRun', message: expect.stringContaining('dry_run') });
  });

  it('names the query parameter in every issue, alongside the other parameters', () => {
    expect(issuesOf(refusal('success=maybe&dry_run=no')).map((i) => i.path)).toEqual(['success', 'dry_run']);
    expect(issuesOf(refusal('limit=0&kind=nothing')).map((i) => i.path)).toEqual(['limit', 'kind']);
    expect(issuesOf(refusal('clientId=')).map((i) => i.path)).toEqual(['clientId']);
  });
});
