import { createTheme, defaultVariantColorsResolver, parseThemeColor, type CSSVariablesResolver, type VariantColorsResolver } from '@mantine/core';
import { EQUAL_CONTRAST_LUMINANCE, legibleOn, mix } from '../../shared/palette.ts';

/**
 * Coloured text on a tint (light, outline, subtle variants: badges, light buttons, alerts) darkened just enough for
 * 4.5:1; filled variants take black or white text, whichever reads better (autoContrast at the luminance where both
 * give √21:1). Mantine's own yellow or a class's yellow then stay legible.
 */
const variantColorResolver: VariantColorsResolver = (input) => {
  const colours = defaultVariantColorsResolver(input);
  if (!['light', 'outline', 'subtle', 'transparent'].includes(input.variant)) return colours;
  const parsed = parseThemeColor({ color: input.color ?? input.theme.primaryColor, theme: input.theme });
  if (!/^#[0-9a-f]{6}$/i.test(parsed.value)) return colours;
  const background = input.variant === 'light' ? mix(parsed.value, '#ffffff', 0.88) : '#ffffff';
  return { ...colours, color: legibleOn(parsed.value, background), hoverColor: legibleOn(parsed.value, background) };
};

export const THEME = createTheme({
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
