import { useLayoutEffect, useRef, useState, type RefObject } from "react";

/** The rows of a list to render, [start, end), and the heights of the
 * spacers standing in for the rows before and after them. */
export interface RowWindow {
  start: number;
  end: number;
  before: number;
  after: number;
}

/** windowOf picks the rows of a list of count rows, pitch pixels apart
 * (a row and the gap after it), that show in a viewport viewHeight high
 * whose top is offset pixels below the list's top, widened by overscan
 * rows each side. The spacers keep the list its full height: in a flex
 * column the gap beside a spacer counts too, so each is one gap short. */
export function windowOf(count: number, pitch: number, gap: number, offset: number, viewHeight: number, overscan: number): RowWindow {
  const first = Math.floor(offset / pitch) - overscan;
  const last = Math.ceil((offset + viewHeight) / pitch) + overscan;
  const start = Math.max(0, Math.min(count, first));
  const end = Math.max(start, Math.min(count, last));
  return {
    start,
    end,
    before: start > 0 ? start * pitch - gap : 0,
    after: end < count ? (count - end) * pitch - gap : 0,
  };
}

function scrollParent(el: HTMLElement): HTMLElement | null {
  for (let p = el.parentElement; p; p = p.parentElement) {
    const oy = getComputedStyle(p).overflowY;
    if (oy === "auto" || oy === "scroll") return p;
  }
  return null;
}

const all = (count: number): RowWindow => ({ start: 0, end: count, before: 0, after: 0 });

// Rows rendered before any is measured.
const FIRST_ROWS = 30;

/** useRowWindow renders only the rows of a long list near the viewport,
 * so that every keystroke of a search over thousands of servers costs
 * what a screenful does. rowsRef is the element holding the spacers and
 * the rows (selected by rowSelector), which must be of one height; the
 * pitch is measured from the rows rendered. Without layout (no height,
 * as under jsdom) every row is rendered. */
export function useRowWindow(rowsRef: RefObject<HTMLElement | null>, count: number, rowSelector: string, overscan = 8): RowWindow {
  const [win, setWin] = useState<RowWindow>(() => all(Math.min(count, FIRST_ROWS)));
  const measureRef = useRef<() => void>(null);
  useLayoutEffect(() => {
    const box = rowsRef.current;
    if (!box) return;
    const scroller = scrollParent(box);
    let frame = 0;
    const measure = () => {
      frame = 0;
      const rows = box.querySelectorAll<HTMLElement>(rowSelector);
      const viewHeight = scroller ? scroller.clientHeight : window.innerHeight;
      const height = rows[0]?.offsetHeight ?? 0;
      let next: RowWindow;
      if (rows.length === 0) {
        // Nothing to measure yet: a first screenful, measured once drawn.
        next = all(Math.min(count, FIRST_ROWS));
      } else if (!height || !viewHeight) {
        next = all(count);
      } else {
        const pitch = rows.length > 1 ? rows[1].offsetTop - rows[0].offsetTop : height;
        const gap = Math.max(0, pitch - height);
        const offset = (scroller ? scroller.getBoundingClientRect().top : 0) - box.getBoundingClientRect().top;
        next = windowOf(count, pitch, gap, offset, viewHeight, overscan);
      }
      setWin((w) => (w.start === next.start && w.end === next.end && w.before === next.before && w.after === next.after ? w : next));
    };
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(measure);
    };
    measureRef.current = measure;
    measure();
    const target: HTMLElement | Window = scroller ?? window;
    target.addEventListener("scroll", schedule, { passive: true });
    window.addEventListener("resize", schedule);
    return () => {
      target.removeEventListener("scroll", schedule);
      window.removeEventListener("resize", schedule);
      if (frame) cancelAnimationFrame(frame);
    };
  }, [rowsRef, count, rowSelector, overscan]);
  // After every render: the rows drawn may be the first to measure, or
  // the list may have moved (a filter above it changed height).
  useLayoutEffect(() => measureRef.current?.());
  // A shorter list than the window last measured: clamp until measured.
  return win.end > count ? { ...win, end: count, after: 0 } : win;
}
