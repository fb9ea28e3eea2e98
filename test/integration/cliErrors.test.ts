import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../fixtures/generate.ts';
import { makeTinyLayersModel } from '../fixtures/tinyModel.ts';
import { BIN } from '../fixtures/cli.ts';

let tmp: ReturnType<typeof tempDir>;
let dir: string;
let model: string;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  tmp = tempDir();
  dir = path.join(tmp.dir, 'project');
  expect(cli(['init', dir]).code).toBe(0);
  model = path.join(tmp.dir, 'tiny');
  await makeTinyLayersModel(model);
  // A backbone whose sidecar names it as a path out of the cache.
  fs.cpSync(model, path.join(tmp.dir, 'hostile'), { recursive: true });
  fs.writeFileSync(path.join(tmp.dir, 'hostile', 'dermfuse-backbone.json'), JSON.stringify({ name: '../../x' }));
}, 60_000);
afterAll(() => tmp.cleanup());

describe('dermfuse CLI with impossible values', () => {
  // [command line, what the one line must say]; DIR is the project, MODEL a tiny backbone.
  const cases: [string[], RegExp][] = [
    [
      ['extract', 'DIR', '--backbone', 'MODEL', '--std', '1e-310,1,1', '--mean', '0.5,0.5,0.5'],
      /--std takes three values between 0\.001 and 1000 \(on 0-1 pixel values\), got "1e-310,1,1"/,
    ],
    [['extract', 'DIR', '--backbone', 'MODEL', '--mean', 'abc', '--std', '1,1,1'], /--mean takes 3 comma-separated values, got "abc"/],
    [['extract', 'DIR', '--backbone', 'MODEL', '--mean', '1e300,0,0', '--std', '1,1,1'], /--mean takes three values between -10 and 10/],
    [['extract', 'DIR', '--backbone', 'MODEL', '--range', '5,5'], /--range takes LOW,HIGH with LOW below HIGH/],
    [['extract', 'DIR', '--backbone', 'MODEL', '--input-size', '1e9'], /--input-size takes a number at most 1024, got "1000000000"/],
    [['extract', 'DIR', '--backbone', 'MODEL', '--workers', '-3'], /--workers takes a number at least 1, got "-3"/],
    [['extract', 'DIR', '--backbone', path.join('TMP', 'hostile')], /hostile\/dermfuse-backbone\.json: name: a backbone name starts with a letter or digit/],
    [['train', 'DIR', '--label', 'dx', '--folds', '-2'], /--folds: at least 2 folds \(got "-2"\)/],
    [['train', 'DIR', '--label', 'dx', '--seed', 'abc'], /--seed takes a number, got "abc"/],
    [['train', 'DIR', '--label', 'dx', '--finetune', '--augment', 'crops,blur'], /--augment must be one of crops, jitter, got "crops,blur"/],
    [['train', 'DIR', '--label', 'dx', '--augment', 'crops'], /--finetune-from, --views, --augment and --epochs go with --finetune/],
    [['train-backbone', 'DIR', '--input-size', '100000'], /--input-size takes a whole number from 16 to 512, got "100000"/],
    [['train-backbone', 'DIR', '--epochs', '-1'], /--epochs takes a whole number from 1 to 1000, got "-1"/],
    [['label-next', 'DIR', '--limit', '-4'], /--limit takes a whole number above 0, got "-4"/],
    [['report', 'DIR', '--run', '-1'], /--run takes a whole number above 0, got "-1"/],
    [['agreement', 'DIR', '--task', '0'], /--task takes a whole number above 0, got "0"/],
    [['doctor', '--backend', 'gpu'], /--backend must be one of tensorflow, wasm, cpu, got "gpu"/],
  ];

  it.each(cases)('%j: one line naming the flag, no stack, no issue dump, a non-zero exit', (args, message) => {
    const r = cli(
      args.map((a) =>
        a
          .replace(/^DIR$/, dir)
          .replace(/^MODEL$/, model)
          .replace(/^TMP/, tmp.dir),
      ),
    );
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^dermfuse [\w-]+: .+\n$/);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toMatch(/\[\s*\{|"code":/);
  });

  it('keeps the usage after a command line that does not fit it (an unknown flag, a missing value)', () => {
    const unknown = cli(['train', dir, '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^dermfuse train: Unknown option '--bogus'\nusage: dermfuse train DIR --label SET/);
    const missing = cli(['train', dir]);
    expect(missing.stderr).toMatch(/^dermfuse train: --label is required\nusage: /);
    const dash = cli(['train', dir, '--label', '-x']);
    expect(dash.stderr).toMatch(/^dermfuse train: --label takes a value; for one that starts with a dash write --label=VALUE\nusage: /);
  });
});
