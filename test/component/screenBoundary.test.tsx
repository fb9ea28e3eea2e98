// @vitest-environment jsdom
import { cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ScreenBoundary } from '../../src/renderer/src/ScreenBoundary.tsx';
import { installDomShims, renderUi } from './setup.tsx';

beforeAll(installDomShims);
afterEach(cleanup);

let broken = true;
function Results() {
  if (broken) throw new TypeError('Failed to fetch dynamically imported module: http://127.0.0.1/assets/ResultsScreen-abc.js');
  return <span data-testid="results">results</span>;
}

describe('a screen that cannot be shown', () => {
  it('says so in place of itself (not a blank window), and Try again draws it anew after the retry hook', () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const retry = vi.fn(() => (broken = false));
    renderUi(
      <ScreenBoundary what="Models & results" onRetry={retry}>
        <Results />
      </ScreenBoundary>,
    );
    expect(screen.getByTestId('screen-error').textContent).toMatch(
      /^Models & results could not be shownIts code could not be loaded: the DermFuse server may be unreachable, or DermFuse was updated/,
    );
    fireEvent.click(screen.getByTestId('screen-retry'));
    expect(retry).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId('results').textContent).toBe('results');
  });
});
