// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { useEffect } from 'react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/shared/api.ts';
import { CallError, ErrorsProvider, useCall, useShowError } from '../../src/renderer/src/errors.tsx';
import { installDomShims, renderUi } from './setup.tsx';

beforeAll(installDomShims);

afterEach(cleanup);

function Loader({ fn }: { fn: () => Promise<string> }) {
  const call = useCall(fn, []);
  return (
    <div>
      <CallError call={call} what="Loading the runs" />
      {call.data && <span data-testid="data">{call.data}</span>}
    </div>
  );
}

function Background({ fail }: { fail: () => Promise<unknown> }) {
  const showError = useShowError();
  useEffect(() => {
    fail().catch((err: unknown) => showError('Listing the image features', err));
  }, [fail, showError]);
  return null;
}

describe('errors reach the person', () => {
  it('a failed call shows its message and a retry that calls again', async () => {
    let calls = 0;
    const fn = () => (++calls === 1 ? Promise.reject(new ApiError({ code: 'BUSY', message: 'The project is busy.' })) : Promise.resolve('3 runs'));
    renderUi(<Loader fn={fn} />);
    await waitFor(() => expect(screen.getByTestId('call-error').textContent).toContain('Loading the runs failed: The project is busy.'));
    fireEvent.click(screen.getByText('Retry'));
    await waitFor(() => expect(screen.getByTestId('data').textContent).toBe('3 runs'));
    expect(screen.queryByTestId('call-error')).toBeNull();
    expect(calls).toBe(2);
  });

  it('a failed background call is shown above the screen and can be dismissed', async () => {
    const fail = () => Promise.reject(new ApiError({ code: 'INTERNAL', message: 'disk full' }));
    renderUi(
      <ErrorsProvider>
        <Background fail={fail} />
      </ErrorsProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('app-error').textContent).toContain('Listing the image features failed: disk full'));
    fireEvent.click(screen.getByTestId('app-error').querySelector('button')!);
    await waitFor(() => expect(screen.queryByTestId('app-error')).toBeNull());
  });
});
