// @vitest-environment jsdom
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TaskNext } from '../../src/shared/team.ts';
import type { ImageDetail } from '../../src/shared/types.ts';
import { installDomShims, renderUi } from './setup.tsx';

/** The server: two images to label; `images.get` answers when the test lets it (a slow disk or network). */
const server = vi.hoisted(() => ({
  labelled: [] as number[],
  pending: [] as (() => void)[],
  holdDetails: false,
}));

vi.mock('../../src/renderer/src/api.ts', async () => {
  const { imageDetail: detail } = await import('./setup.tsx');
  const next = (): TaskNext => {
    const left = [1, 2].filter((id) => !server.labelled.includes(id));
    return {
      task: {
        id: 1,
        name: 'Round 1',
        labelSet: 'dx',
        perImage: 2,
        blind: true,
        createdBy: 'admin',
        createdAt: '',
        closedAt: null,
        images: 2,
        complete: 0,
        labels: server.labelled.length,
        needed: 4,
        annotators: [],
      },
      imageId: left[0] ?? null,
      mine: server.labelled.length,
      left: left.length,
    };
  };
  return {
    isDesktop: false,
    api: {
      // An annotator: no runs to explain the image with.
      'team.me': async () => ({ name: 'ana', role: 'annotator', account: true, blind: true, metadataEdits: false }),
      'labelSets.get': async () => ({ classes: [{ name: 'mel', hotkey: '1', color: '#f00' }] }),
      'team.next': async () => next(),
      'images.get': ({ id }: { id: number }) =>
        server.holdDetails ? new Promise<ImageDetail>((resolve) => server.pending.push(() => resolve(detail(id)))) : Promise.resolve(detail(id)),
      'labels.set': async ({ imageId }: { imageId: number }) => {
        server.labelled.push(imageId);
        return detail(imageId);
      },
    },
  };
});

const { TaskLabeller } = await import('../../src/renderer/src/team/TaskLabeller.tsx');

beforeAll(installDomShims);
afterEach(cleanup);

describe('the task queue', () => {
  it('shows the new count only with the next image, so a key pressed then labels that image, never the last one again', async () => {
    renderUi(<TaskLabeller taskId={1} onBack={() => {}} />);
    await waitFor(() => expect(screen.getByTestId('task-progress').textContent).toMatch(/^You labelled 0 of 2/));
    server.holdDetails = true;
    fireEvent.keyDown(document.body, { key: '1' });
    await waitFor(() => expect(server.pending).toHaveLength(1));
    // The label is saved and the next image is on its way: the count waits for it, and a key now is not taken.
    expect(screen.getByTestId('task-progress').textContent).toMatch(/^You labelled 0 of 2/);
    fireEvent.keyDown(document.body, { key: '1' });
    expect(server.labelled).toEqual([1]);
    await act(async () => server.pending.shift()!());
    await waitFor(() => expect(screen.getByTestId('task-progress').textContent).toMatch(/^You labelled 1 of 2/));
    // At once, in the same turn as the count: the key labels the image now shown.
    fireEvent.keyDown(document.body, { key: '1' });
    await waitFor(() => expect(server.labelled).toEqual([1, 2]));
  });
});
