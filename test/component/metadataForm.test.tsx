// @vitest-environment jsdom
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { validateValue } from '../../src/main/workbench/edits.ts';
import { ApiError } from '../../src/shared/api.ts';
import type { Field, FieldValue, ImageDetail } from '../../src/shared/types.ts';
import { imageDetail, installDomShims, renderUi } from './setup.tsx';

const FIELDS: Field[] = [
  { name: 'age', type: 'number', allowedValues: null, unit: 'years', min: 0, max: 120, missingAllowed: true, displayName: null },
  { name: 'site', type: 'category', allowedValues: ['back', 'face'], unit: null, min: null, max: null, missingAllowed: true, displayName: 'Body site' },
  { name: 'itch', type: 'boolean', allowedValues: null, unit: null, min: null, max: null, missingAllowed: true, displayName: null },
];
const detail = (metadata: Record<string, FieldValue>): ImageDetail => imageDetail(7, { metadata, fields: FIELDS });

// The form talks to the contract; here the contract checks values with main's own validator.
const calls: { field: string; value: FieldValue }[] = [];
vi.mock('../../src/renderer/src/api.ts', () => ({
  isDesktop: false,
  api: {
    'fields.set': async ({ field, value }: { field: string; value: FieldValue }) => {
      const f = FIELDS.find((x) => x.name === field)!;
      try {
        const checked = validateValue(
          {
            id: 1,
            name: f.name,
            type: f.type,
            allowed_values: f.allowedValues ? JSON.stringify(f.allowedValues) : null,
            unit: f.unit,
            min: f.min,
            max: f.max,
            missing_allowed: 1,
            position: 0,
            display_name: f.displayName,
          },
          value,
        );
        calls.push({ field, value: checked });
        return detail({ age: null, site: null, itch: null, [field]: checked });
      } catch (err) {
        throw new ApiError({ code: 'INVALID_VALUE', message: (err as Error).message });
      }
    },
  },
}));

beforeAll(installDomShims);
afterEach(() => {
  cleanup();
  calls.length = 0;
});

describe('metadata form', () => {
  it('shows why an invalid age is refused and does not report it saved; a valid age is saved on Enter', async () => {
    const { MetadataForm } = await import('../../src/renderer/src/workbench/MetadataForm.tsx');
    const saved = vi.fn();
    renderUi(<MetadataForm detail={detail({ age: 30, site: 'back', itch: null })} onSaved={saved} />);
    const age = screen.getByTestId('field-age') as HTMLInputElement;
    expect(age.value).toBe('30');
    fireEvent.change(age, { target: { value: '300' } });
    await act(async () => void fireEvent.keyDown(age, { key: 'Enter' }));
    await waitFor(() => expect(screen.getByText('age: 300 is above the maximum 120 years.')).toBeTruthy());
    expect(saved).not.toHaveBeenCalled();
    fireEvent.change(age, { target: { value: '42' } });
    await act(async () => void fireEvent.keyDown(age, { key: 'Enter' }));
    await waitFor(() => expect(saved).toHaveBeenCalledTimes(1));
    expect(calls.at(-1)).toEqual({ field: 'age', value: 42 });
    expect(screen.queryByText(/above the maximum/)).toBeNull();
  });

  it('does not save when focus leaves an unchanged field, and saves an emptied field as missing', async () => {
    const { MetadataForm } = await import('../../src/renderer/src/workbench/MetadataForm.tsx');
    const saved = vi.fn();
    renderUi(<MetadataForm detail={detail({ age: 30, site: 'back', itch: null })} onSaved={saved} />);
    const age = screen.getByTestId('field-age') as HTMLInputElement;
    await act(async () => void fireEvent.blur(age));
    expect(calls).toHaveLength(0);
    fireEvent.change(age, { target: { value: '' } });
    await act(async () => void fireEvent.blur(age));
    await waitFor(() => expect(calls).toEqual([{ field: 'age', value: null }]));
  });

  it('shows a missing boolean as missing, not as no', async () => {
    const { MetadataForm } = await import('../../src/renderer/src/workbench/MetadataForm.tsx');
    renderUi(<MetadataForm detail={detail({ age: null, site: null, itch: null })} onSaved={() => {}} />);
    const checked = screen.getByTestId('field-itch').querySelector('input:checked') as HTMLInputElement;
    expect(checked.value).toBe('missing');
  });

  it('labels a field with its display name, and one without by its name', async () => {
    const { MetadataForm } = await import('../../src/renderer/src/workbench/MetadataForm.tsx');
    renderUi(<MetadataForm detail={detail({ age: null, site: null, itch: null })} onSaved={() => {}} />);
    expect(screen.getByText('Body site')).toBeTruthy();
    expect(screen.queryByText('site')).toBeNull();
    expect(screen.getByText('age (years)')).toBeTruthy();
  });
});
