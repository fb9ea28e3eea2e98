import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { browseFolder } from '../../src/main/api/browseFiles.ts';
import { tempDir } from '../fixtures/generate.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('the serve folder picker', () => {
  const root = path.join(tmp.dir, 'data');
  fs.mkdirSync(path.join(root, 'photos'), { recursive: true });
  fs.mkdirSync(path.join(tmp.dir, 'secret'));
  fs.writeFileSync(path.join(root, 'meta.csv'), 'a\n');
  fs.writeFileSync(path.join(root, 'photos', 'x.jpg'), '');
  fs.symlinkSync(path.join(tmp.dir, 'secret'), path.join(root, 'link'));

  it('lists the data folders, then a folder’s sub-folders, CSV files and image count', async () => {
    expect(await browseFolder([root], undefined)).toMatchObject({ dir: null, folders: [root] });
    const real = fs.realpathSync(root);
    const top = await browseFolder([root], root);
    expect(top).toMatchObject({ dir: real, parent: null, csvFiles: [path.join(real, 'meta.csv')], images: 0 });
    expect(top.folders).toContain(path.join(real, 'photos'));
    expect(await browseFolder([root], path.join(root, 'photos'))).toMatchObject({ parent: real, images: 1 });
  });

  it('refuses anything outside the data folders: "..", an absolute path, a symbolic link pointing out', async () => {
    for (const dir of [path.join(root, '..'), '/etc', path.join(root, 'link'), path.join(root, 'photos', '..', '..', 'secret')])
      await expect(browseFolder([root], dir)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(browseFolder([], undefined)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});
