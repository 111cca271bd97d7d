// Canvas-drawn widgets (the console, the charts) cannot use CSS variables
// directly: they read the theme's values, again whenever useTheme().theme
// changes (the provider has set the page's theme by then).

/** cssVar is the value of a custom property of the page's theme. */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
