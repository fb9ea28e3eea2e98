// Module hook for the Electron harness: `import … from 'electron'` in the built main bundle gets the stand-in.
const STUB = new URL('./electronStub.mjs', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === 'electron') return { url: STUB, shortCircuit: true };
  return next(specifier, context);
}
