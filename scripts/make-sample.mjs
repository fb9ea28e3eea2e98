// Writes resources/sample/: a small sample of PAD-UFES-20 (CC BY 4.0) for `dermfuse sample` and the start screen's
// "Try the sample": whole patients (those with several photos first) until each class has its share, the 300 px
// photos as they are in ../shared, and the dataset's own metadata rows for them, unmodified.
// Run once: node scripts/make-sample.mjs
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const pad = path.resolve(root, '../shared/data/pad-ufes-20');
const out = path.join(root, 'resources/sample');
/** Photos per class: all six classes, cancers (BCC, MEL, SCC) close to half, as in the full set. */
const QUOTA = { BCC: 18, NEV: 16, SEK: 14, ACK: 14, MEL: 14, SCC: 10 };

const text = fs.readFileSync(path.join(pad, 'metadata.csv'), 'utf8');
const [headerLine, ...lines] = text.split(/\r?\n/).filter((l) => l !== '');
const header = headerLine.split(',');
const col = (name) => header.indexOf(name);
const have = new Set(fs.readdirSync(path.join(pad, 'images')).map((f) => path.parse(f).name));
const rows = lines.map((line) => ({ line, cells: line.split(',') })).filter((r) => have.has(path.parse(r.cells[col('img_id')]).name));
const byPatient = new Map();
for (const r of rows) {
  const p = r.cells[col('patient_id')];
  if (!byPatient.has(p)) byPatient.set(p, []);
  byPatient.get(p).push(r);
}
// Patients with several photos first (so the sample shows grouping), then by id: deterministic.
const patients = [...byPatient.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
const taken = Object.fromEntries(Object.keys(QUOTA).map((k) => [k, 0]));
const chosen = [];
for (const [, photos] of patients) {
  const fits = photos.every(
    (r) =>
      taken[r.cells[col('diagnostic')]] + photos.filter((x) => x.cells[col('diagnostic')] === r.cells[col('diagnostic')]).length <=
      QUOTA[r.cells[col('diagnostic')]],
  );
  if (!fits || photos.length > 3) continue;
  for (const r of photos) taken[r.cells[col('diagnostic')]]++;
  chosen.push(...photos);
}
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'images'), { recursive: true });
for (const r of chosen) {
  const stem = path.parse(r.cells[col('img_id')]).name;
  fs.copyFileSync(path.join(pad, 'images', `${stem}.jpg`), path.join(out, 'images', `${stem}.jpg`));
}
fs.writeFileSync(path.join(out, 'metadata.csv'), [headerLine, ...chosen.map((r) => r.line)].join('\n') + '\n');
const multi = new Set(chosen.map((r) => r.cells[col('patient_id')]).filter((p, i, all) => all.indexOf(p) !== i));
process.stdout.write(
  `${chosen.length} photos, ${new Set(chosen.map((r) => r.cells[col('patient_id')])).size} patients (${multi.size} with several photos): ${JSON.stringify(taken)}\n`,
);
