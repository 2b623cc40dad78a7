// Child process for the SIGKILL test: appends records with fsync 'never' and prints how many
// were acknowledged, until it is killed.
import { DiskStorage } from './disk-storage.js';

const dir = process.argv[2]!;
const { storage } = await DiskStorage.open({ dir, fsync: 'never' }, () => {});
let i = 0;
for (;;) {
  const batch = Array.from({ length: 50 }, () => storage.append(Buffer.from(`rec${i++}`)));
  await Promise.all(batch);
  process.stdout.write(`${i}\n`);
}
