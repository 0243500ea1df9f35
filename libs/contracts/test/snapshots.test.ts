import { describe, expect, it } from 'vitest';
import { CORE_CONTRACTS, LoadSnapshotInputSchema, SaveSnapshotInputSchema, TOOLS, toolJsonSchema } from '@qsys-mcp/contracts';

describe('snapshot schemas', () => {
  it('take bank_name, a 1-based bank, an optional ramp_time and dry_run, and nothing else', () => {
    expect(LoadSnapshotInputSchema.safeParse({ bank_name: 'Scenes', bank: 1, ramp_time: 2, dry_run: true, core: 'main' }).success).toBe(true);
    expect(LoadSnapshotInputSchema.safeParse({ bank_name: 'Scenes', bank: 0 }).success).toBe(false);
    expect(LoadSnapshotInputSchema.safeParse({ bank_name: 'Scenes', bank: 1.5 }).success).toBe(false);
    expect(LoadSnapshotInputSchema.safeParse({ bank_name: 'Scenes', bank: 1, ramp_time: 61 }).success).toBe(false);
    expect(LoadSnapshotInputSchema.safeParse({ bank_name: 'Scenes', bank: 1, name: 'x' }).success).toBe(false);
    expect(SaveSnapshotInputSchema.safeParse({ bank_name: 'Scenes', bank: 3 }).success).toBe(true);
    expect(SaveSnapshotInputSchema.safeParse({ bank_name: 'Scenes', bank: 3, ramp_time: 1 }).success).toBe(false);
    expect(SaveSnapshotInputSchema.safeParse({ bank_name: ' Scenes', bank: 3 }).success).toBe(false);
  });

  it('have connector contracts whose requests are strict', () => {
    expect(CORE_CONTRACTS['snapshot.load'].request.safeParse({ name: 'Scenes', bank: 2, ramp: 1, dryRun: true }).success).toBe(true);
    expect(CORE_CONTRACTS['snapshot.load'].request.safeParse({ name: 'Scenes', bank: 2, extra: 1 }).success).toBe(false);
    expect(CORE_CONTRACTS['snapshot.save'].request.safeParse({ name: 'Scenes', bank: 2, dryRun: true }).success).toBe(false);
    expect(CORE_CONTRACTS['snapshot.list'].reply.safeParse({ banks: [{ name: 'Scenes', type: 'snapshot_controller', bankCount: 8 }] }).success).toBe(true);
  });

  it('advertise bank_name and bank as required', () => {
    for (const name of ['qsys.load_snapshot', 'qsys.save_snapshot'] as const) {
      expect(toolJsonSchema(TOOLS[name].input, 'input').required).toEqual(['bank_name', 'bank']);
    }
  });
});
