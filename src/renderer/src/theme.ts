import { createTheme, defaultVariantColorsResolver, parseThemeColor, type CSSVariablesResolver, type VariantColorsResolver } from '@mantine/core';
import { contrast, EQUAL_CONTRAST_LUMINANCE, legibleOn, mix } from '../../shared/palette.ts';

/**
 * Coloured text on a tint (light, outline, subtle variants: badges, light buttons, alerts) darkened just enough for
 * 4.5:1; filled variants take black or white text, whichever reads better (autoContrast at the luminance where both
 * give √21:1). Mantine's own yellow or a class's yellow then stay legible.
 */
type Input = Parameters<VariantColorsResolver>[0];

/** The control's colour, and its ten shades when it is a theme colour named without a shade (blue, not blue.3). */
function colourOf(input: Input) {
  const parsed = parseThemeColor({ color: input.color ?? input.theme.primaryColor, theme: input.theme });
  return { parsed, shades: parsed.isThemeColor && parsed.shade === undefined ? input.theme.colors[parsed.color] : undefined };
}

const variantColorResolver: VariantColorsResolver = (input) => {
  const colours = defaultVariantColorsResolver(input);
  if (input.variant === 'filled') return filled(input, colours);
  if (!['light', 'outline', 'subtle', 'transparent'].includes(input.variant)) return colours;
  const { parsed, shades } = colourOf(input);
  if (!/^#[0-9a-f]{6}$/i.test(parsed.value)) return colours;
  // The darker of the two tints a light control shows (at rest and hovered): a theme colour's shades 1 and 2
  // (Mantine's --mantine-color-X-light and -light-hover), another colour at 10% and 12% over white.
  const tint = shades ? shades[2]! : mix(parsed.value, '#ffffff', 0.88);
  const background = input.variant === 'light' ? tint : '#ffffff';
  return { ...colours, color: legibleOn(parsed.value, background), hoverColor: legibleOn(parsed.value, background) };
};

/**
 * A filled button or badge of a theme colour (blue, red, violet…) takes the lightest shade from 6 on that carries
 * white text at 4.5:1, so a primary button reads white on blue, not black on mid blue; colours with no such shade
 * (green, orange, yellow) keep black text on their usual shade.
 */
function filled(input: Input, colours: ReturnType<VariantColorsResolver>): ReturnType<VariantColorsResolver> {
  const { shades } = colourOf(input);
  const shade = shades && [6, 7, 8, 9].find((k) => contrast('#ffffff', shades[k]!) >= 4.5);
  if (!shades || shade === undefined) return colours;
  return { ...colours, background: shades[shade]!, hover: shades[Math.min(shade + 1, 9)]!, color: '#ffffff', hoverColor: '#ffffff' };
}

export const THEME = createTheme({
  // Filled primary controls that take the theme's defaults (a Button without a colour): blue 8, white text at 5:1.
  primaryShade: 8,
  autoContrast: true,
  luminanceThreshold: EQUAL_CONTRAST_LUMINANCE,
  focusRing: 'auto',
  variantColorResolver,
});

/** "Dimmed" text at 6:1 on white instead of Mantine's 3.3:1: hints and figures people read are not decoration. */
export const CSS_VARIABLES: CSSVariablesResolver = () => ({
  variables: {},
  light: { '--mantine-color-dimmed': '#5c636a' },
  dark: {},
});
