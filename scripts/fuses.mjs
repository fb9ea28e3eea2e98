// Electron fuses: feature switches baked into the Electron binary. DermFuse turns off every way to run the binary
// as something else (ELECTRON_RUN_AS_NODE, NODE_OPTIONS, --inspect) and the file:// extra privileges it no longer
// needs; a packaged build also refuses to load an app from anywhere but its integrity-checked app.asar.
// `npm start` applies the unpacked set to the downloaded binary; a packaging step applies the packaged set.
import fuses from '@electron/fuses';

const { flipFuses, getCurrentFuseWire, FuseVersion, FuseV1Options } = fuses;
/** The wire's bytes ('0', '1', 'r'), as @electron/fuses writes them. */
const FuseState = { DISABLE: 0x30, ENABLE: 0x31, REMOVED: 0x72 };

/** The fuses to set; `packaged` adds the two that need the app inside app.asar (npm start runs it unpacked). */
export function fuseConfig(packaged) {
  return {
    version: FuseVersion.V1,
    [FuseV1Options.RunAsNode]: false,
    [FuseV1Options.EnableCookieEncryption]: true,
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
    [FuseV1Options.EnableNodeCliInspectArguments]: false,
    [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
    ...(packaged ? { [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true, [FuseV1Options.OnlyLoadAppFromAsar]: true } : {}),
  };
}

/** The binary's fuses by name: true (on), false (off), or 'removed'. */
export async function readFuses(binary) {
  const wire = await getCurrentFuseWire(binary);
  const out = {};
  for (const [index, state] of Object.entries(wire)) {
    if (index === 'version') continue;
    const name = FuseV1Options[Number(index)] ?? `fuse${index}`;
    out[name] = state === FuseState.ENABLE ? true : state === FuseState.DISABLE ? false : 'removed';
  }
  return out;
}

/** Sets DermFuse's fuses on an Electron binary (rewritten only when one differs); returns them as read back. */
export async function applyFuses(binary, packaged) {
  const wanted = fuseConfig(packaged);
  const current = await readFuses(binary);
  const differs = Object.entries(wanted).some(
    ([index, on]) => index !== 'version' && current[FuseV1Options[Number(index)]] !== on && current[FuseV1Options[Number(index)]] !== 'removed',
  );
  // An arm64 macOS binary must be re-signed ad hoc after its bytes change, or it will not start.
  if (differs) await flipFuses(binary, { ...wanted, resetAdHocDarwinSignature: process.platform === 'darwin' && process.arch === 'arm64' });
  return readFuses(binary);
}
