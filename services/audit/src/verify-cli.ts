import { verifyAuditFile } from './verify.js';

// `npm run audit:verify -- <db>`: verifies the hash chain of an audit SQLite file.
// Prints one line and exits 0 when the chain holds, 1 naming the first broken row, 2 on usage
// or when the file cannot be read. It only reads the file, so it may run while the service writes.

const USAGE = 'usage: npm run audit:verify -- <path to audit.sqlite>';

const args = process.argv.slice(2);
if (args.length !== 1 || args[0] === '--help' || args[0] === '-h') {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}
const path = args[0]!;
try {
  const result = verifyAuditFile(path);
  if (result.ok) {
    const from = result.anchor.seq === 0 ? 'the first row' : `anchor seq ${result.anchor.seq} (${result.anchor.hash})`;
    process.stdout.write(`OK: ${result.rows} rows verified from ${from} to seq ${result.head.seq}, head hash ${result.head.hash}\n`);
    process.exit(0);
  }
  process.stdout.write(`BROKEN at row seq ${result.seq} (event ${result.eventId}): ${result.reason}; ${result.rows} rows before it verified\n`);
  process.exit(1);
} catch (err) {
  process.stderr.write(`cannot verify ${path}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
