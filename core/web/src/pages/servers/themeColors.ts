// Canvas-drawn widgets (the console, the charts) cannot use CSS variables
// directly: they read the theme's values and follow the theme switch.

import { useEffect, useRef } from "react";

/** cssVar is the value of a custom property of the page's theme. */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** useThemeChange calls fn after the page's theme changes. It watches the
 * data-theme attribute itself: the theme provider sets it in an effect,
 * after the effects of the components below it have run. */
export function useThemeChange(fn: () => void) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (typeof MutationObserver === "undefined") return;
    const mo = new MutationObserver(() => ref.current());
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    return () => mo.disconnect();
  }, []);
}
