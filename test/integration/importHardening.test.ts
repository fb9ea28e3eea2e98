import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Editor } from '../../src/main/workbench/edits.ts';
import { FieldsRepo } from '../../src/main/db/repos/fieldsRepo.ts';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { Project } from '../../src/main/project.ts';
import { countRows, waitForCount } from '../fixtures/db.ts';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';
import { BIN } from '../fixtures/cli.ts';

let tmp: ReturnType<typeof tempDir>;
let images: string;

const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });

beforeAll(async () => {
  tmp = tempDir();
  images = path.join(tmp.dir, 'images');
  await makeImages(images, 3, 8, 32);
});
afterAll(() => tmp.cleanup());

async function freshProject(name: string): Promise<Project> {
  return Project.create(path.join(tmp.dir, name)).project;
}

describe('import of hostile or unusual files', () => {
  it('imports a 10,000-column CSV with every field and value', async () => {
    const cols = Array.from({ length: 9_998 }, (_, i) => `f${i}`);
    const rows = ['IMG_00000', 'IMG_00001', 'IMG_00002'].map((id, r) => [id, 'A', ...cols.map((_, i) => String((i * 7 + r) % 101))].join(','));
    fs.writeFileSync(path.join(tmp.dir, 'wide.csv'), [['image_id', 'label', ...cols].join(','), ...rows].join('\n') + '\n');
    const p = await freshProject('wide');
    const s = await runImport(
      p,
      await planImport(
        { imagesDir: images, metadataPath: path.join(tmp.dir, 'wide.csv'), preset: 'generic', idColumn: 'image_id', labelColumn: 'label' },
        p.dir,
      ),
    );
    expect(s.fields).toHaveLength(9_998);
    expect(s.rowsMatched).toBe(3);
    const fields = new FieldsRepo(p.db);
    const img = p.db.prepare(`SELECT id FROM images WHERE external_id = 'IMG_00002'`).pluck().get() as number;
    expect(fields.value(img, fields.get('f9997')!)?.value).toBe((9997 * 7 + 2) % 101);
    expect(fields.list().map((f) => f.position)).toEqual(cols.map((_, i) => i));
    p.close();
  });

  it('refuses a cell longer than the editor allows, naming line and column, and keeps the rest of the row', async () => {
    const long = 'x'.repeat(1_000_000);
    fs.writeFileSync(path.join(tmp.dir, 'long.csv'), `image_id,label,note,site\nIMG_00000,A,${long},arm\nIMG_00001,B,short,leg\n`);
    const p = await freshProject('long');
    const s = await runImport(
      p,
      await planImport(
        { imagesDir: images, metadataPath: path.join(tmp.dir, 'long.csv'), preset: 'generic', idColumn: 'image_id', labelColumn: 'label' },
        p.dir,
      ),
    );
    expect(s.errors.find((e) => e.source === 'long.csv line 2')).toMatchObject({
      column: 'note',
      message: expect.stringMatching(/^the value is 1,000,000 characters long \(at most 10,000\); stored as missing/),
    });
    const fields = new FieldsRepo(p.db);
    const img = p.db.prepare(`SELECT id FROM images WHERE external_id = 'IMG_00000'`).pluck().get() as number;
    expect(fields.value(img, fields.get('note')!)).toBeNull();
    expect(fields.value(img, fields.get('site')!)?.value).toBe('arm');
    p.close();
  });

  it('reads a UTF-16 CSV and refuses `"MEL"x` by line', async () => {
    const text = 'image_id,label,site\nIMG_00000,MEL,Região\n';
    fs.writeFileSync(path.join(tmp.dir, 'u16.csv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const plan = await planImport(
      { imagesDir: images, metadataPath: path.join(tmp.dir, 'u16.csv'), preset: 'generic', idColumn: 'image_id', labelColumn: 'label' },
      tmp.dir,
    );
    expect(plan.records.get('IMG_00000')?.cells).toEqual(['IMG_00000', 'MEL', 'Região']);
    fs.writeFileSync(path.join(tmp.dir, 'quote.csv'), 'image_id,label\nIMG_00000,"MEL"x\n');
    await expect(
      planImport({ imagesDir: images, metadataPath: path.join(tmp.dir, 'quote.csv'), preset: 'generic', idColumn: 'image_id', labelColumn: 'label' }, tmp.dir),
    ).rejects.toThrow(/line 2, column 2/);
  });

  it('reports every symbolic link it does not follow, and follows those inside the image folder', async () => {
    const root = path.join(tmp.dir, 'links');
    const inside = path.join(root, 'images');
    const outside = path.join(root, 'elsewhere');
    await makeImages(inside, 2, 9, 32);
    await makeImages(outside, 1, 10, 32);
    fs.symlinkSync(path.join(inside, 'IMG_00000.jpg'), path.join(inside, 'alias.jpg'));
    fs.symlinkSync(path.join(outside, 'IMG_00000.jpg'), path.join(inside, 'out.jpg'));
    fs.symlinkSync(outside, path.join(inside, 'outdir'));
    fs.symlinkSync(path.join(root, 'nothing.jpg'), path.join(inside, 'broken.jpg'));
    fs.symlinkSync(inside, path.join(inside, 'loop'));
    const plan = await planImport({ imagesDir: inside }, tmp.dir);
    expect(plan.files.map((f) => path.basename(f.path)).sort()).toEqual(['IMG_00000.jpg', 'IMG_00001.png', 'alias.jpg']);
    const said = Object.fromEntries(plan.problems.map((p) => [path.basename(p.source), p.message]));
    expect(said['out.jpg']).toMatch(/outside the image folder; skipped/);
    expect(said['outdir']).toMatch(/outside the image folder; skipped/);
    expect(said['broken.jpg']).toMatch(/broken symbolic link/);
    expect(said['loop']).toMatch(/already scanned/);
  });

  it('neutralises formula cells in export-csv and restores them when the export is imported again', async () => {
    fs.writeFileSync(path.join(tmp.dir, 'notes.csv'), 'image_id,label,note\nIMG_00000,A,plain\nIMG_00001,B,x\nIMG_00002,A,y\n');
    const p = await freshProject('formula');
    await runImport(
      p,
      await planImport(
        {
          imagesDir: images,
          metadataPath: path.join(tmp.dir, 'notes.csv'),
          preset: 'generic',
          idColumn: 'image_id',
          labelColumn: 'label',
          types: { note: 'text' },
        },
        p.dir,
      ),
    );
    const evil = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", '@SUM(1+1)'];
    const editor = new Editor(p);
    evil.forEach((v, i) => editor.setField(i + 1, 'note', v, 'tester'));
    p.close();
    const out = path.join(tmp.dir, 'export.csv');
    expect(cli('export-csv', path.join(tmp.dir, 'formula'), '--out', out).status).toBe(0);
    const written = fs.readFileSync(out, 'utf8');
    for (const v of evil) expect(written).not.toMatch(new RegExp(`(^|,|")${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
    expect(written).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    const again = await freshProject('reimported');
    await runImport(
      again,
      await planImport(
        { imagesDir: images, metadataPath: out, preset: 'generic', idColumn: 'image_id', labelColumn: 'label', types: { note: 'text' } },
        again.dir,
      ),
    );
    const fields = new FieldsRepo(again.db);
    const notes = (again.db.prepare('SELECT id FROM images ORDER BY external_id').pluck().all() as number[]).map(
      (id) => fields.value(id, fields.get('note')!)?.value,
    );
    expect(notes.sort()).toEqual([...evil].sort());
    again.close();
  });

  it('removes thumbnails a killed import was writing when the project is opened again', async () => {
    const p = await freshProject('tmpthumbs');
    const tmpFile = path.join(p.dir, 'thumbnails', 'ab', 'abcdef.jpg.1234.tmp');
    fs.mkdirSync(path.dirname(tmpFile), { recursive: true });
    fs.writeFileSync(tmpFile, 'half');
    // An import whose process is gone (pid 2^22 + 1 is above Linux's pid_max).
    p.db
      .prepare(`INSERT INTO imports (images_dir, metadata_path, options, pid, status, started_at) VALUES ('x', NULL, '{}', 4194305, 'running', '2026-01-01')`)
      .run();
    p.close();
    Project.open(path.join(tmp.dir, 'tmpthumbs')).close();
    expect(fs.existsSync(tmpFile)).toBe(false);
  });
});

describe('folders that cannot hold a project, and stopping', () => {
  it('refuses a project under /proc or under a file within a second, from the API and the CLI', async () => {
    const t0 = Date.now();
    expect(() => Project.create('/proc/dermfuse/p')).toThrow(/\/proc is a system pseudo file system, not storage/);
    expect(() => Project.create('/etc/passwd/p')).toThrow(/\/etc\/passwd is a file, not a folder/);
    expect(Date.now() - t0).toBeLessThan(1000);
    const r = cli('init', '/proc/dermfuse/p');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/pseudo file system/);
    const out = cli('export-csv', path.join(tmp.dir, 'wide'), '--out', '/sys/dermfuse.csv');
    expect(out.status).not.toBe(0);
    expect(out.stderr).toMatch(/pseudo file system/);
  });

  it('stops an import on SIGTERM within the grace time, keeps what was done, and importing again completes it', async () => {
    const many = path.join(tmp.dir, 'many');
    const fakes = await makeImages(many, 150, 12, 256);
    fs.writeFileSync(path.join(tmp.dir, 'many.csv'), hamCsv(fakes));
    const dir = path.join(tmp.dir, 'stopped');
    expect(cli('init', dir).status).toBe(0);
    const child = spawn(process.execPath, [BIN, 'import', dir, '--images', many, '--metadata', path.join(tmp.dir, 'many.csv')], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitForCount(() => countRows(path.join(dir, 'project.sqlite'), 'SELECT COUNT(*) FROM images'), 64);
    const t0 = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(130);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const r = cli('import', dir, '--images', many, '--metadata', path.join(tmp.dir, 'many.csv'), '--json');
    expect(r.status).toBe(0);
    expect(countRows(path.join(dir, 'project.sqlite'), 'SELECT COUNT(*) FROM images')).toBe(150);
  });
});
