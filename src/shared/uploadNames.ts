/** Characters no part of an uploaded path may hold (they mean something else on some desktop's disk), and NUL. */
const NAME = /^[^\\/:*?"<>|\0]{1,255}$/;

/**
 * Why a relative path ("folder/sub/photo.jpg") cannot be uploaded, or null when it can: at most 16 parts and 1000
 * characters; no part empty, ".", "..", hidden, with a leading or trailing space, or with \ / : * ? " < > |.
 * The browser leaves such files out (naming them) and the server refuses them: one rule for both.
 */
export function uploadNameProblem(rel: string): string | null {
  const parts = rel.split('/');
  if (rel.length > 1000 || parts.length > 16) return 'the path is too long';
  for (const p of parts) {
    if (!NAME.test(p) || p === '.' || p === '..') return `${JSON.stringify(p.slice(0, 100))} is not a file or folder name this server takes`;
    if (p.startsWith('.')) return `${JSON.stringify(p.slice(0, 100))} is hidden (starts with a dot)`;
    if (p.trim() !== p) return `${JSON.stringify(p.slice(0, 100))} starts or ends with a space`;
  }
  return null;
}
