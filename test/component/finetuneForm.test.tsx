// @vitest-environment jsdom
import { cleanup, fireEvent, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TrainRequestSchema } from '../../src/shared/api.ts';
import type { FinetuneReport } from '../../src/shared/results.ts';
import { FinetuneCompare } from '../../src/renderer/src/results/FinetuneCompare.tsx';
import { FinetuneOptions, finetuneRequest, NO_FINETUNE, type FinetuneChoice } from '../../src/renderer/src/results/FinetuneOptions.tsx';
import { installDomShims, renderUi } from './setup.tsx';

beforeAll(installDomShims);
afterEach(cleanup);

let latest: FinetuneChoice = NO_FINETUNE;
function Form({ features }: { features: number }) {
  const [v, setV] = useState(NO_FINETUNE);
  latest = v;
  return <FinetuneOptions value={v} onChange={setV} features={features} />;
}
const request = () => TrainRequestSchema.parse({ label: 'dx', ...finetuneRequest(latest) });

describe('"Train the CNN too" in the training form', () => {
  it('is off by default (a frozen run sends no fine-tuning field) and cannot be switched on with several feature sets', () => {
    renderUi(<Form features={2} />);
    const sw = screen.getByTestId('train-finetune') as HTMLInputElement;
    expect(sw.disabled).toBe(true);
    expect(screen.getByText(/Choose one set of features/)).toBeTruthy();
    expect(request()).toEqual({ label: 'dx' });
  });

  it('switched on sends finetune with only the options changed from the defaults, and every request passes the contract', () => {
    renderUi(<Form features={1} />);
    fireEvent.click(screen.getByTestId('train-finetune'));
    expect(request()).toEqual({ label: 'dx', finetune: true });
    expect(screen.getByTestId('finetune-advanced').textContent).toMatch(/from the last quarter, 8 views, at most 12 epochs/);
    fireEvent.click(screen.getByTestId('finetune-advanced'));
    fireEvent.change(screen.getByTestId('finetune-from'), { target: { value: '  features.14 ' } });
    fireEvent.change(screen.getByTestId('finetune-epochs'), { target: { value: '500' } });
    expect(request()).toEqual({ label: 'dx', finetune: true, finetuneFrom: 'features.14', epochs: 200 });
    fireEvent.change(screen.getByTestId('finetune-epochs'), { target: { value: '3' } });
    expect(request()).toEqual({ label: 'dx', finetune: true, finetuneFrom: 'features.14', epochs: 3 });
    expect(screen.getByTestId('finetune-advanced').textContent).toMatch(/from features\.14, 8 views, at most 3 epochs/);
    // Random crops and colour jitter: sent in the contract's order, named in the summary, and off again.
    fireEvent.click(screen.getByTestId('finetune-augment-jitter'));
    fireEvent.click(screen.getByTestId('finetune-augment-crops'));
    expect(request()).toEqual({ label: 'dx', finetune: true, finetuneFrom: 'features.14', augment: ['crops', 'jitter'], epochs: 3 });
    expect(screen.getByTestId('finetune-advanced').textContent).toMatch(/8 views \+ crops and jitter, at most 3 epochs/);
    fireEvent.click(screen.getByTestId('finetune-augment-crops'));
    expect(request()).toMatchObject({ augment: ['jitter'] });
    fireEvent.click(screen.getByTestId('finetune-augment-jitter'));
    expect(request()).not.toHaveProperty('augment');
    // Off again: nothing of the options is sent (the server would refuse --epochs without --finetune).
    fireEvent.click(screen.getByTestId('train-finetune'));
    expect(request()).toEqual({ label: 'dx' });
  });
});

const figures = (auc: number) => ({
  auc,
  aucCI: [auc - 0.05, auc + 0.05] as [number, number],
  balancedAccuracy: 0.7,
  balancedAccuracyCI: [0.6, 0.8] as [number, number],
});
const report: FinetuneReport = {
  baselineRunId: 7,
  backbone: 'mobilenet_v2_1.0_224_onnx',
  cut: '/features/features.13/Add_output_0',
  trainedConvolutions: 13,
  totalConvolutions: 52,
  views: 8,
  epochs: 12,
  bestEpochs: [2, 7, 2, 3, 6],
  finalBestEpoch: 4,
  samplesPerSecond: 15.9,
  cacheSeconds: 70.9,
  trainSeconds: 1053,
  workers: 2,
  tunedBackbone: 'k',
  frozen: { image: figures(0.81), metadata: figures(0.865), fused: figures(0.908) },
  vsFrozen: {
    image: { difference: 0.0434, ci: [0.015, 0.072], p: 0.0004 },
    metadata: { difference: 0, ci: [0, 0], p: 1 },
    fused: { difference: 0.0136, ci: [-0.002, 0.029], p: 0.096 },
  },
};

describe('the report of a fine-tuned run', () => {
  it('shows frozen and fine-tuned AUC per model with the paired difference, its interval and p, and what trained', () => {
    renderUi(<FinetuneCompare f={report} auc={{ image: 0.8534, metadata: 0.865, fused: 0.9216 }} />);
    const cells = (m: string) => Array.from(screen.getByTestId(`finetune-${m}`).querySelectorAll('td'), (td) => td.textContent);
    expect(cells('image')).toEqual(['Image only', '0.810', '0.853', '+0.043', '[+0.015, +0.072]', '< 0.001']);
    expect(cells('fused')).toEqual(['Fused', '0.908', '0.922', '+0.014', '[-0.002, +0.029]', '0.096']);
    expect(cells('metadata').slice(1)).toEqual(['0.865', '0.865', '+0.000', '[+0.000, +0.000]', '1.000']);
    expect(screen.getByTestId('finetune-compare').textContent).toContain('run #7, the same folds');
    expect(screen.getByTestId('finetune-what').textContent).toMatch(
      /after \/features\/features\.13\/Add_output_0 \(13 of 52 convolutions of mobilenet_v2_1\.0_224_onnx\).*8 views per image.*averaged at test time.*2, 7, 2, 3, 6 of at most 12.*, 4 for the final network\. Took 1124 s: 71 s caching the frozen part, 1053 s training on 2 workers \(15\.9 samples\/s each\)\./,
    );
  });

  it('says when random crops and colour jitter were trained on too', () => {
    renderUi(<FinetuneCompare f={{ ...report, augment: ['crops', 'jitter'] }} auc={{ image: 0.8534, metadata: 0.865, fused: 0.9216 }} />);
    expect(screen.getByTestId('finetune-what').textContent).toMatch(
      /averaged at test time \(.*\); as many random views \(crops and colour jitter\) trained on too, never averaged\. Best epoch per fold/,
    );
  });
});
