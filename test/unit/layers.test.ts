import fs from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { MAIN_LAYERS, ML_WINGS } from '../../eslint.config.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: ROOT });

/** The no-restricted-imports messages ESLint gives `code` as if it were the file `file`. */
async function refusals(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the order inside src/main is enforced by the linter', () => {
  it('refuses an upward import: db/ importing ml/, ml/ importing images/, a low ml wing importing a higher one', async () => {
    expect(
      await refusals('src/main/db/repos/x.ts', "import { extractFeatures } from '../../ml/backbone/extract.ts';\nexport const x = extractFeatures;\n"),
    ).toEqual([expect.stringMatching(/src\/main\/db lies below .*ml.*: it may not import them/)]);
    expect(await refusals('src/main/ml/fusion/x.ts', "import { planImport } from '../../images/importPlan.ts';\nexport const x = planImport;\n")).toHaveLength(
      1,
    );
    expect(await refusals('src/main/ml/stats/x.ts', "import { trainRun } from '../fusion/train.ts';\nexport const x = trainRun;\n")).toEqual([
      expect.stringMatching(/src\/main\/ml\/stats lies below bundle, explain, finetune, fusion/),
    ]);
    expect(await refusals('src/main/cli/x.ts', "import { Service } from '../api/service.ts';\nexport const x = Service;\n")).toHaveLength(1);
  });

  it('accepts a downward import', async () => {
    expect(await refusals('src/main/ml/fusion/x.ts', "import { fitPca } from '../stats/pca.ts';\nexport const x = fitPca;\n")).toEqual([]);
    expect(await refusals('src/main/workflows/x.ts', "import { planImport } from '../images/importPlan.ts';\nexport const x = planImport;\n")).toEqual([]);
  });

  it('names every folder and root file of src/main and every wing of ml/ in the layer table and in docs/ARCHITECTURE.md', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
    const layered = new Set([...MAIN_LAYERS.flat(), 'index.ts']);
    for (const e of fs.readdirSync(path.join(ROOT, 'src/main'), { withFileTypes: true })) {
      expect(layered.has(e.name), `${e.name} is in MAIN_LAYERS`).toBe(true);
      expect(doc, `docs/ARCHITECTURE.md names ${e.name}`).toContain(e.isDirectory() ? `${e.name}/` : e.name);
    }
    const wings = new Set(ML_WINGS.flat());
    for (const e of fs.readdirSync(path.join(ROOT, 'src/main/ml'), { withFileTypes: true })) {
      expect(e.isDirectory() && wings.has(e.name), `ml/${e.name} is a wing in ML_WINGS (no loose files in ml/)`).toBe(true);
      expect(doc).toContain(`${e.name}/`);
    }
  });

  it('names every repository in docs/ARCHITECTURE.md', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
    for (const f of fs.readdirSync(path.join(ROOT, 'src/main/db/repos'))) {
      const cls = /export class (\w+)/.exec(fs.readFileSync(path.join(ROOT, 'src/main/db/repos', f), 'utf8'))?.[1];
      expect(cls, f).toBeDefined();
      expect(doc, `docs/ARCHITECTURE.md names ${cls}`).toContain(`\`${cls}\``);
    }
  });
});
