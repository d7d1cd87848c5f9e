// Child process of crash.test.ts: writes seeded random data into a disk, flushing every few
// writes and reporting each completed flush on stdout ("F <last op>"), until it is killed.
import { writeSync } from 'node:fs';
import { openDisk } from '../../src/disk/index.ts';
import { crashOps } from './crash-ops.ts';

const [file, seedText] = process.argv.slice(2);
// Never outlive a test run that died: the parent kills within a second (an orphan also stops
// at its next acknowledgement, on EPIPE).
const deadline = Date.now() + 30_000;
const disk = openDisk(file);
const ops = crashOps(Number(seedText), disk.sectorCount);
writeSync(1, 'R\n');
for (let i = 0; ; i++) {
  const op = ops.next();
  disk.write(op.sector, op.data);
  if (op.flushAfter) {
    disk.flush();
    writeSync(1, `F ${i}\n`); // blocking: an acknowledgement is only one once the parent can read it
    if (Date.now() > deadline) process.exit(3);
  }
}
