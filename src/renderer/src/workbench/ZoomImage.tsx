import { ActionIcon, Box, Group, Text } from '@mantine/core';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useWindowKeys } from '../keys.ts';
import { actualSizeScale, FIT, zoomAt, type View } from './zoom.ts';

/** Where an image of natural size w × h lands in a box of bw × bh when fitted (object-fit: contain). */
function containedRect(w: number, h: number, bw: number, bh: number): { left: number; top: number; width: number; height: number } {
  const s = Math.min(bw / w, bh / h);
  return { left: (bw - w * s) / 2, top: (bh - h * s) / 2, width: w * s, height: h * s };
}

/**
 * The image at original resolution with zoom (wheel, +/-, buttons) and pan (drag); double-click toggles 1:1 and fit.
 * `overlay` (a heatmap) is laid exactly over the photo and zooms and pans with it.
 */
export function ZoomImage({ src, alt, height, overlay }: { src: string; alt: string; height: number | string; overlay?: ReactNode }) {
  const box = useRef<HTMLDivElement>(null);
  const img = useRef<HTMLImageElement>(null);
  const [view, setView] = useState<View>(FIT);
  const [rect, setRect] = useState<ReturnType<typeof containedRect> | null>(null);
  const measure = () => {
    const el = img.current;
    const b = box.current;
    if (el?.naturalWidth && b) setRect(containedRect(el.naturalWidth, el.naturalHeight, b.clientWidth, b.clientHeight));
  };
  useEffect(() => {
    const b = box.current;
    if (!b || typeof ResizeObserver === 'undefined') return;
    const o = new ResizeObserver(() => measure());
    o.observe(b);
    return () => o.disconnect();
  }, []);
  const drag = useRef<{ x: number; y: number; vx: number; vy: number } | null>(null);
  useEffect(() => setView(FIT), [src]);

  const centre = () => ({ x: (box.current?.clientWidth ?? 0) / 2, y: (box.current?.clientHeight ?? 0) / 2 });
  /** How far zooming out goes: fit, or a small photo's true pixels below it. */
  const floor = useRef(1);
  floor.current = rect && img.current?.naturalWidth ? Math.min(1, img.current.naturalWidth / rect.width) : 1;
  const zoom = (factor: number) => setView((v) => zoomAt(v, factor, centre().x, centre().y, floor.current));
  const actual = () => {
    const el = img.current;
    const b = box.current;
    if (!el || !b || !el.naturalWidth) return;
    const s = actualSizeScale({ w: el.naturalWidth, h: el.naturalHeight }, { w: b.clientWidth, h: b.clientHeight });
    setView(zoomAt(FIT, s, b.clientWidth / 2, b.clientHeight / 2, s));
  };
  // The wheel scrolls the page as everywhere else; it zooms with Ctrl/Cmd/Alt held, or once zoomed in (then it
  // must not scroll away from the lesion). A non-passive listener, so a zoom keeps the page still.
  const zoomed = useRef(false);
  zoomed.current = view.scale > 1;
  useEffect(() => {
    const el = box.current!;
    const onWheel = (e: WheelEvent) => {
      if (!(e.ctrlKey || e.metaKey || e.altKey || zoomed.current)) return;
      e.preventDefault();
      const r = el.getBoundingClientRect();
      setView((v) => zoomAt(v, e.deltaY < 0 ? 1.25 : 0.8, e.clientX - r.left, e.clientY - r.top, floor.current));
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, []);
  useWindowKeys((e) => {
    if ((e.target as HTMLElement).closest('input, textarea, [contenteditable]')) return;
    if (e.key === '+' || e.key === '=') zoom(1.25);
    else if (e.key === '-') zoom(0.8);
    else if (e.key === '0') setView(FIT);
  });

  return (
    <Box>
      <Box
        ref={box}
        h={height}
        data-testid="zoom-box"
        data-scale={view.scale.toFixed(3)}
        style={{
          overflow: 'hidden',
          position: 'relative',
          background: 'var(--mantine-color-dark-7)',
          borderRadius: 4,
          cursor: view.scale > 1 ? 'grab' : 'zoom-in',
          touchAction: 'none',
        }}
        onPointerDown={(e) => {
          drag.current = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y };
          e.currentTarget.setPointerCapture(e.pointerId);
        }}
        onPointerMove={(e) => {
          const d = drag.current;
          if (d && view.scale > 1) setView((v) => ({ ...v, x: d.vx + e.clientX - d.x, y: d.vy + e.clientY - d.y }));
        }}
        onPointerUp={() => (drag.current = null)}
        onDoubleClick={() => (view.scale !== 1 ? setView(FIT) : actual())}
      >
        <img
          ref={img}
          src={src}
          alt={alt}
          draggable={false}
          onLoad={measure}
          style={{
            width: '100%',
            height: '100%',
            objectFit: 'contain',
            transformOrigin: '0 0',
            transform: `translate(${view.x}px, ${view.y}px) scale(${view.scale})`,
            userSelect: 'none',
          }}
        />
        {overlay && rect && (
          <div
            style={{
              position: 'absolute',
              inset: 0,
              transformOrigin: '0 0',
              transform: `translate(${view.x}px, ${view.y}px) scale(${view.scale})`,
              pointerEvents: 'none',
            }}
          >
            <div style={{ position: 'absolute', left: rect.left, top: rect.top, width: rect.width, height: rect.height }}>{overlay}</div>
          </div>
        )}
      </Box>
      <Group gap={4} mt={4}>
        <ActionIcon size="sm" variant="default" onClick={() => zoom(0.8)} aria-label="zoom out">
          −
        </ActionIcon>
        <ActionIcon size="sm" variant="default" onClick={() => zoom(1.25)} aria-label="zoom in" data-testid="zoom-in">
          +
        </ActionIcon>
        <ActionIcon size="sm" variant="default" onClick={() => setView(FIT)} aria-label="fit">
          ⤢
        </ActionIcon>
        <ActionIcon size="sm" variant="default" onClick={actual} aria-label="original resolution" data-testid="zoom-actual">
          1:1
        </ActionIcon>
        <Text size="xs" c="dimmed">
          <span data-testid="zoom-percent">
            {Math.round(view.scale * (rect && img.current?.naturalWidth ? rect.width / img.current.naturalWidth : 1) * 100)}%
          </span>{' '}
          of the photo&apos;s pixels · Ctrl+wheel or +/− to zoom, drag to pan, 0 to fit
        </Text>
      </Group>
    </Box>
  );
}
