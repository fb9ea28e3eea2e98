/**
 * A text with every absolute path in it (POSIX or a Windows drive) cut to its last part: what an annotator, or a
 * model card handed to others, may read of where data lies on the server ("folder /srv/clinic-b/images" → "folder images").
 */
export function withoutPaths(text: string): string {
  // A path starts a word: "3/4" and "BCC/MEL" are not paths.
  return text.replace(/(?<=^|[\s"'(])(?:[A-Za-z]:)?[\\/](?:[^\s\\/]+[\\/])*([^\s\\/]+)/g, '$1');
}
