import { MantineProvider } from '@mantine/core';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import type { ImageDetail } from '../../src/shared/types.ts';

/** jsdom lacks what Mantine and the grid use: matchMedia and ResizeObserver. */
export function installDomShims(): void {
  window.matchMedia ??= ((query: string) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener() {},
    removeListener() {},
    addEventListener() {},
    removeEventListener() {},
    dispatchEvent: () => false,
  })) as typeof window.matchMedia;
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
  window.HTMLElement.prototype.scrollIntoView ??= () => {};
}

export function renderUi(ui: ReactElement) {
  return render(<MantineProvider>{ui}</MantineProvider>);
}

/** An image with no label, no history and no relatives: what a component test varies. */
export function imageDetail(id: number, more: Partial<ImageDetail> = {}): ImageDetail {
  return {
    id,
    externalId: `img${id}`,
    label: null,
    unsure: false,
    suggestion: null,
    width: 10,
    height: 10,
    patient: null,
    lesion: null,
    metadata: {},
    fields: [],
    history: [],
    fieldHistory: [],
    sameLesion: [],
    samePatient: [],
    ...more,
  };
}
