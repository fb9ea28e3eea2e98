import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, waitForCount } from '../fixtures/db.ts';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';
import { copiesDataset } from '../fixtures/plant.ts';
import { BIN } from '../fixtures/cli.ts';
import { SMALL_BUILT_IN_BACKBONE } from '../../src/main/ml/backbone/catalogue.ts';

let tmp: ReturnType<typeof tempDir>;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `init` then `import` of a generic-preset CSV (image_id, dx, patient_id, lesion_id), as a user types them. */
function initGeneric(dir: string, images: string, csv: string): void {
  expect(cli('init', dir).code).toBe(0);
  const args = ['--preset', 'generic', '--id-column', 'image_id', '--label-column', 'dx', '--patient-column', 'patient_id', '--lesion-column', 'lesion_id'];
  expect(cli('import', dir, '--images', images, '--metadata', csv, ...args).code).toBe(0);
}

beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.cleanup());

describe('dermfuse CLI', () => {
  it('doctor says which ONNX Runtime providers work here (each tried on a one-node model) and which TF.js backend runs', () => {
    const r = cli('doctor', '--json');
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.onnxruntime.version).toMatch(/^1\.30\./);
    // The CPU provider ships in the package and must work on every machine; the others say why not, or work.
    expect(d.onnxruntime.providers.find((p: { name: string }) => p.name === 'cpu')).toEqual({
      name: 'cpu',
      bundled: true,
      usable: true,
      note: 'used for feature extraction',
    });
    for (const p of d.onnxruntime.providers) expect(p.note.length).toBeGreaterThan(10);
    expect(['tensorflow', 'wasm', 'cpu']).toContain(d.backend);
    const text = cli('doctor');
    expect(text.stdout).toMatch(
      /^ONNX Runtime: onnxruntime-node 1\.30\.\d+ \(the default runtime for feature extraction\)\n {2}usable: cpu - used for feature extraction\n/,
    );
    expect(cli('doctor', '--backend', 'gpu').stderr).toMatch(/--backend must be one of tensorflow, wasm, cpu, got "gpu"/);
  });

  it('init, import and info print exactly one JSON object each with --json', async () => {
    const images = path.join(tmp.dir, 'small');
    const fakes = await makeImages(images, 6);
    const csv = path.join(tmp.dir, 'small.csv');
    fs.writeFileSync(csv, hamCsv(fakes, 2, ';'));
    const proj = path.join(tmp.dir, 'p1');
    const init = cli('init', proj, '--json');
    expect(init.code).toBe(0);
    expect(JSON.parse(init.stdout)).toEqual({ dir: proj, created: true });
    const imp = cli('import', proj, '--images', images, '--metadata', csv, '--json');
    expect(imp.code).toBe(0);
    const s = JSON.parse(imp.stdout);
    expect(s).toMatchObject({
      imagesAdded: 6,
      imagesUpdated: 0,
      imagesUnchanged: 0,
      imagesFailed: 0,
      rowsMatched: 6,
      rowsWithoutImage: 2,
      imagesWithoutRow: 0,
      label: 'dx',
    });
    expect(s.seconds).toBeGreaterThan(0);
    expect(Array.isArray(s.errors)).toBe(true);
    const info = JSON.parse(cli('info', proj, '--json').stdout);
    expect(info).toMatchObject({ images: 6, labelled: 6, patients: 0 });
    expect(info.fields.map((f: { name: string }) => f.name)).toEqual(['dx_type', 'age', 'sex', 'localization']);
    // A CSV of one's own: --label-set names where its labels go, --map reads "gender" into the existing "sex".
    const own = path.join(tmp.dir, 'own.csv');
    fs.writeFileSync(own, ['name,finding,gender', ...fakes.map((f, i) => `${f.id},${f.label.toLowerCase()},${i % 2 ? 'male' : 'female'}`)].join('\n'));
    // The same import of it, with what each run says of the look-alike column.
    const importOwn = (...answer: string[]) =>
      cli('import', proj, '--images', images, '--metadata', own, '--id-column', 'name', '--label-column', 'finding', '--label-set', 'dx', ...answer);
    // Without --map, a column that looks like a field the project has stops the import, naming both, before anything is written.
    const asked = importOwn();
    expect(asked.code).toBe(2);
    expect(asked.stderr).toMatch(
      /Nothing imported: column "gender" looks like the project's field "sex" \(.+\)\. Say which each is: --map gender=sex to read them into those fields, --new-fields gender to add them as new fields, or --ignore them\./,
    );
    expect(JSON.parse(cli('info', proj, '--json').stdout).fields).toHaveLength(4);
    const again = importOwn('--map', 'gender=sex', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ label: 'dx', labelSet: { name: 'dx', isNew: false }, fieldMatches: [] });
    expect(JSON.parse(cli('info', proj, '--json').stdout).fields).toHaveLength(4);
    // Said to be new, it is added beside "sex".
    const added = importOwn('--new-fields', 'gender');
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('column "gender" was added as a new field beside "sex", as --new-fields asked');
    expect(JSON.parse(cli('info', proj, '--json').stdout).fields).toHaveLength(5);
  });

  it('duplicates finds a copy filed under another patient, as text and as one JSON object', async () => {
    const { images, csv } = await copiesDataset(path.join(tmp.dir, 'dups'), 16);
    const dir = path.join(tmp.dir, 'dups-project');
    initGeneric(dir, images, csv);
    const j = cli('duplicates', dir, '--json');
    expect(j.code).toBe(0);
    const out = JSON.parse(j.stdout);
    expect(out.summary).toMatchObject({ images: 20, pairs: 4, groups: 4, crossPatientGroups: 4 });
    const groups = out.groups.map((g: { members: { externalId: string }[] }) => g.members.map((m) => m.externalId).sort());
    expect(groups).toContainEqual(['COPY_0', 'IMG_00000']);
    const t = cli('duplicates', dir);
    expect(t.stdout).toMatch(
      /^Scanned 20 images in [\d.]+ s \(features [\d.]+ s, hashes [\d.]+ s for 0 new, pairs [\d.]+ s\)\n {2}rule: cosine − 0\.022 × hash bits ≥ 0\.47/,
    );
    expect(t.stdout).toContain('4 near-duplicate pairs in 4 groups: 4 span patients (an identity error or a leak)');
    expect(t.stdout).toMatch(
      / {2}group \d+ \(SPANS PATIENTS, spans lesions, unreviewed\):\n {4}(IMG_00000 {2}patient P0 {2}lesion L0 {2}label nev\n {4}COPY_0 {2}patient Q0 {2}lesion M0 {2}label nev|COPY_0 {2}patient Q0 {2}lesion M0 {2}label nev\n {4}IMG_00000 {2}patient P0 {2}lesion L0 {2}label nev)\n/,
    );
  }, 120_000);

  it('label-next orders the unlabelled images by the newest run, and names a wrong strategy', async () => {
    const { images, csv } = await copiesDataset(path.join(tmp.dir, 'next'), 24);
    // Four images without a label: what the queue should hold.
    const rows = fs.readFileSync(csv, 'utf8').trimEnd().split('\n');
    const unlabelled = ['IMG_00004', 'IMG_00005', 'IMG_00006', 'IMG_00007'];
    fs.writeFileSync(csv, rows.map((r) => (unlabelled.includes(r.split(',')[0]!) ? r.replace(/,(nev|mel),/, ',,') : r)).join('\n') + '\n');
    const dir = path.join(tmp.dir, 'next-project');
    initGeneric(dir, images, csv);
    const none = cli('label-next', dir);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('No finished run yet: train one first');
    expect(cli('extract', dir, '--backbone', SMALL_BUILT_IN_BACKBONE).code).toBe(0);
    expect(cli('train', dir, '--label', 'dx', '--fields', 'age', '--folds', '3').code).toBe(0);
    const r = cli('label-next', dir, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ source: 'run 1', strategy: 'uncertainty', images: 4 });
    expect([...out.first].sort()).toEqual(unlabelled);
    const bad = cli('label-next', dir, '--strategy', 'loudest');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--strategy must be one of uncertainty+diversity, uncertainty, random, got "loudest"');
  }, 180_000);

  it('sends errors to stderr with a non-zero exit code, naming the file or column', () => {
    const proj = path.join(tmp.dir, 'p2');
    cli('init', proj);
    const missing = cli('import', proj, '--images', path.join(tmp.dir, 'nope'), '--json');
    expect(missing.code).not.toBe(0);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/Image folder .*nope does not exist/);
    const notProject = cli('info', path.join(tmp.dir, 'not-a-project'), '--json');
    expect(notProject.code).toBe(1);
    expect(notProject.stderr).toMatch(/is not a DermFuse project/);
    const csv = path.join(tmp.dir, 'weird.csv');
    fs.writeFileSync(csv, 'file,klass\na,b\n');
    fs.mkdirSync(path.join(tmp.dir, 'empty'), { recursive: true });
    const unknown = cli('import', proj, '--images', path.join(tmp.dir, 'empty'), '--metadata', csv, '--preset', 'generic', '--id-column', 'fname');
    expect(unknown.stderr).toMatch(/weird\.csv has no column "fname"/);
    expect(cli('import', proj, '--bogus').code).toBe(2);
  });

  it('leaves a consistent project when killed mid-import, and importing again completes it', async () => {
    const images = path.join(tmp.dir, 'big');
    const fakes = await makeImages(images, 160, 7, 384);
    const csv = path.join(tmp.dir, 'big.csv');
    fs.writeFileSync(csv, hamCsv(fakes));
    const proj = path.join(tmp.dir, 'p3');
    cli('init', proj);
    const child = spawn(process.execPath, [BIN, 'import', proj, '--images', images, '--metadata', csv, '--json'], { stdio: 'ignore' });
    const dbFile = path.join(proj, 'project.sqlite');
    const count = () => countRows(dbFile, 'SELECT COUNT(*) FROM images');
    await waitForCount(count, 20);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const partial = count();
    expect(partial).toBeGreaterThanOrEqual(20);
    expect(partial).toBeLessThan(160);

    const db = new Database(dbFile);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const rows = db.prepare('SELECT id, thumb FROM images').all() as { id: number; thumb: string }[];
    for (const r of rows) expect(fs.existsSync(path.join(proj, r.thumb))).toBe(true);
    const unlabelled = db.prepare('SELECT COUNT(*) AS n FROM images i WHERE NOT EXISTS (SELECT 1 FROM annotations a WHERE a.image_id = i.id)').get() as {
      n: number;
    };
    expect(unlabelled.n).toBe(0);
    db.close();

    const again = JSON.parse(cli('import', proj, '--images', images, '--metadata', csv, '--json').stdout);
    expect(again.imagesAdded).toBe(160 - partial);
    expect(again.imagesUnchanged).toBe(partial);
    const info = JSON.parse(cli('info', proj, '--json').stdout);
    expect(info).toMatchObject({ images: 160, labelled: 160 });
    const check = new Database(dbFile, { readonly: true });
    const statuses = check.prepare('SELECT status FROM imports ORDER BY id').pluck().all();
    check.close();
    expect(statuses).toEqual(['interrupted', 'done']);
  });
});

describe('dermfuse users and tasks', () => {
  it('users add prints a personal link once (only its hash is stored); names are unique; token, revoke, metadata and list act on the project', () => {
    const dir = path.join(tmp.dir, 'team');
    expect(cli('init', dir).code).toBe(0);
    const add = cli('users', 'add', dir, 'ana', '--role', 'annotator', '--url', 'https://derm-lab:8470/', '--json');
    expect(add.code).toBe(0);
    const added = JSON.parse(add.stdout) as { token: string; link: string };
    expect(added.link).toBe(`https://derm-lab:8470/?token=${added.token}`);
    expect(added.token).toMatch(/^[0-9a-f]{48}$/);
    const stored = () => {
      const db = new Database(path.join(dir, 'project.sqlite'), { readonly: true });
      try {
        return db.prepare('SELECT name, token_hash, revoked_at FROM accounts').all() as { name: string; token_hash: string; revoked_at: string | null }[];
      } finally {
        db.close();
      }
    };
    expect(stored()[0]!.token_hash).toBe(createHash('sha256').update(added.token).digest('hex'));
    expect(cli('users', 'add', dir, 'ANA', '--role', 'admin').stderr).toMatch(/exists already/);
    expect(cli('users', 'add', dir, 'bo', '--role', 'owner').stderr).toMatch(/--role is one of annotator, adjudicator, admin/);
    expect(cli('users', 'promote', dir).stderr).toMatch(/actions are add, list, revoke, token, metadata/);
    const renewed = JSON.parse(cli('users', 'token', dir, 'ana', '--json').stdout) as { token: string; link: string };
    expect(renewed.token).not.toBe(added.token);
    expect(stored()[0]!.token_hash).toBe(createHash('sha256').update(renewed.token).digest('hex'));
    expect(cli('users', 'revoke', dir, 'ana').code).toBe(0);
    expect(stored()[0]!.revoked_at).toMatch(/^\d{4}-/);
    expect(cli('users', 'revoke', dir, 'ana').stderr).toMatch(/No active account named "ana"/);
    expect(JSON.parse(cli('users', 'list', dir, '--json').stdout)).toMatchObject([{ name: 'ana', role: 'annotator', revokedAt: expect.any(String) }]);
    expect(JSON.parse(cli('users', 'metadata', dir, 'no', '--json').stdout)).toEqual({ annotatorsEditMetadata: false });
    expect(JSON.parse(cli('tasks', dir, '--json').stdout)).toEqual([]);
  });
});
