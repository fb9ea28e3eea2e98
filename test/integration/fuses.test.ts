import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script of the start path, without type declarations.
import { applyFuses, readFuses } from '../../scripts/fuses.mjs';
import { tempDir } from '../fixtures/generate.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** A file laid out as an Electron binary's fuse wire is (sentinel, version 1, length, one byte per fuse), all on. */
function fakeElectron(file: string): void {
  fs.writeFileSync(
    file,
    Buffer.concat([Buffer.alloc(4096, 7), Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'), Buffer.from([1, 8]), Buffer.from('11111111'), Buffer.alloc(64, 3)]),
  );
}

describe('Electron fuses', () => {
  it('npm start turns off run-as-node, NODE_OPTIONS, --inspect and file:// privileges; packaging also pins the app to its checked asar', async () => {
    const dev = path.join(tmp.dir, 'electron-dev');
    fakeElectron(dev);
    const set = await applyFuses(dev, false);
    expect(set).toMatchObject({
      RunAsNode: false,
      EnableNodeOptionsEnvironmentVariable: false,
      EnableNodeCliInspectArguments: false,
      GrantFileProtocolExtraPrivileges: false,
      EnableCookieEncryption: true,
      OnlyLoadAppFromAsar: true,
    });
    expect(await readFuses(dev)).toEqual(set);
    // Already set: the binary is not rewritten again on the next start.
    const before = fs.statSync(dev).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    await applyFuses(dev, false);
    expect(fs.statSync(dev).mtimeMs).toBe(before);

    const packaged = path.join(tmp.dir, 'electron-packaged');
    fakeElectron(packaged);
    fs.writeFileSync(packaged, Buffer.from(fs.readFileSync(packaged).toString('latin1').replace('11111111', '10101000'), 'latin1'));
    expect(await applyFuses(packaged, true)).toMatchObject({
      RunAsNode: false,
      EnableEmbeddedAsarIntegrityValidation: true,
      OnlyLoadAppFromAsar: true,
      EnableNodeCliInspectArguments: false,
    });
  });

  it('refuses a file that is not an Electron binary', async () => {
    const bogus = path.join(tmp.dir, 'bogus');
    fs.writeFileSync(bogus, 'not electron');
    await expect(applyFuses(bogus, false)).rejects.toThrow(/Could not find sentinel/);
  });
});
