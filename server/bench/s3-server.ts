import { startLocalS3 } from '../test/s3.js';

// The S3 stand-in (s3rver) in a process of its own, so the transfer bench measures Cabinet's
// process alone. Prints the S3_* environment as one JSON line; stops on SIGTERM.
const s3 = await startLocalS3();
process.stdout.write(`${JSON.stringify(s3.env)}\n`);
process.once('SIGTERM', () => {
  s3.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
