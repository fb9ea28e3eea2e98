import { Alert, Button, Group, Progress, Stack, Text } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { api, putUploadPiece } from '../api.ts';
import { errorMessage } from '../errors.tsx';
import { uploadNameProblem } from '../../../shared/uploadNames.ts';

const IMAGE = /\.(jpe?g|png|tiff?|webp)$/i;
const CSV = /\.csv$/i;
/** Files sent side by side: a few requests in flight keep the line busy without starving the screens' own calls. */
const PARALLEL = 3;
/** A piece that got no answer is sent again this many times before the upload stops. */
const RETRIES = 3;

interface Chosen {
  file: File;
  path: string;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/**
 * The files of a chosen folder that an import can use (photos and CSV files), with their paths below it; other
 * files are counted, and photos whose names the server would refuse are named, so one odd name stops nothing.
 */
function usable(list: FileList | null): { files: Chosen[]; skipped: number; refused: string[] } {
  const all = [...(list ?? [])].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
  // Hidden files and folders (.DS_Store, .git) are never part of a dataset.
  const wanted = all.filter((c) => (IMAGE.test(c.path) || CSV.test(c.path)) && !c.path.split('/').some((p) => p.startsWith('.')));
  const files = wanted.filter((c) => uploadNameProblem(c.path) === null);
  const refused = wanted.filter((c) => !files.includes(c)).map((c) => `${c.path}: ${uploadNameProblem(c.path)!}`);
  return { files, skipped: all.length - wanted.length, refused };
}

/** The folder the photos are in: the one chosen folder when every file lies below it, else the upload's own. */
function photoFolder(dir: string, files: readonly Chosen[]): string {
  const tops = new Set(files.map((f) => (f.path.includes('/') ? f.path.split('/')[0] : '')));
  const [top] = [...tops];
  return tops.size === 1 && top ? `${dir}/${top}` : dir;
}

/**
 * Serve: upload a folder of photos (and its CSV) from this computer into the project, in pieces, with progress and
 * cancel (which removes what arrived). Once every file arrived, the import form takes the folder and the CSV.
 */
export function UploadPanel({ onUploaded }: { onUploaded(imagesDir: string, csv: string | null): void }) {
  const folderInput = useRef<HTMLInputElement>(null);
  const csvInput = useRef<HTMLInputElement>(null);
  const [chosen, setChosen] = useState<{ files: Chosen[]; skipped: number; refused: string[] }>({ files: [], skipped: 0, refused: [] });
  const [sent, setSent] = useState<{ bytes: number; files: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => {
    // React has no prop for it: the input picks a folder, with every file below it.
    folderInput.current?.setAttribute('webkitdirectory', '');
    return () => abort.current?.abort();
  }, []);
  const total = chosen.files.reduce((s, c) => s + c.file.size, 0);
  const photos = chosen.files.filter((c) => IMAGE.test(c.path)).length;

  const upload = async () => {
    setError(null);
    setDone(null);
    const controller = new AbortController();
    abort.current = controller;
    let id: string | null = null;
    try {
      const batch = await api['uploads.begin']({ files: chosen.files.map((c) => ({ path: c.path, size: c.file.size })) });
      id = batch.id;
      let bytes = 0;
      let files = 0;
      setSent({ bytes, files });
      const queue = [...chosen.files];
      const sendFile = async (c: Chosen) => {
        // At least one piece: an empty file is sent as one empty piece.
        let offset = 0;
        do {
          const piece = c.file.slice(offset, offset + batch.chunkBytes);
          for (let attempt = 1; ; attempt++) {
            try {
              await putUploadPiece(batch.id, c.path, offset, piece, controller.signal);
              break;
            } catch (e) {
              if (controller.signal.aborted || attempt >= RETRIES) throw e;
              await new Promise((r) => setTimeout(r, 1000 * attempt));
            }
          }
          offset += piece.size;
          bytes += piece.size;
          setSent({ bytes, files });
        } while (offset < c.file.size);
        files++;
        setSent({ bytes, files });
      };
      await Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          for (let c = queue.shift(); c; c = queue.shift()) await sendFile(c);
        }),
      );
      const result = await api['uploads.finish']({ id: batch.id });
      id = null;
      const csv = result.csvFiles[0] ?? null;
      setDone(
        `Uploaded ${result.images} photos${result.csvFiles.length ? ` and ${result.csvFiles.length} CSV file${result.csvFiles.length === 1 ? '' : 's'}` : ''} into the project; preview them below.`,
      );
      setChosen({ files: [], skipped: 0, refused: [] });
      onUploaded(
        photoFolder(
          result.dir,
          chosen.files.filter((c) => IMAGE.test(c.path)),
        ),
        csv,
      );
    } catch (e) {
      setError(controller.signal.aborted ? 'Upload cancelled: what had arrived was removed.' : `The upload stopped: ${errorMessage(e)}`);
      if (id) await api['uploads.discard']({ id }).catch(() => undefined);
    } finally {
      abort.current = null;
      setSent(null);
    }
  };

  const pick = (list: FileList | null, add: boolean) => {
    const next = usable(list);
    setDone(null);
    setError(null);
    setChosen(
      add
        ? {
            files: [...chosen.files.filter((c) => !next.files.some((n) => n.path === c.path)), ...next.files],
            skipped: chosen.skipped,
            refused: [...chosen.refused, ...next.refused],
          }
        : next,
    );
  };
  return (
    <Stack gap={6} data-testid="upload-panel">
      <Text size="sm" c="dimmed">
        Or upload from this computer: a folder of photos (with its CSV inside, or chosen apart). The files are copied into the project.
      </Text>
      <input ref={folderInput} type="file" multiple hidden onChange={(e) => pick(e.currentTarget.files, false)} data-testid="upload-folder-input" />
      <input ref={csvInput} type="file" accept=".csv,text/csv" hidden onChange={(e) => pick(e.currentTarget.files, true)} data-testid="upload-csv-input" />
      <Group gap="xs">
        <Button variant="default" size="xs" disabled={sent !== null} onClick={() => folderInput.current?.click()} data-testid="upload-folder">
          Choose a folder…
        </Button>
        <Button variant="default" size="xs" disabled={sent !== null} onClick={() => csvInput.current?.click()} data-testid="upload-csv">
          Add a CSV…
        </Button>
        {chosen.files.length > 0 && sent === null && (
          <Button size="xs" onClick={() => void upload()} data-testid="upload-start">
            Upload {photos} photos{chosen.files.length > photos ? ` + ${chosen.files.length - photos} CSV` : ''} ({mb(total)})
          </Button>
        )}
        {chosen.skipped > 0 && sent === null && (
          <Text size="xs" c="dimmed" data-testid="upload-skipped">
            {chosen.skipped} other files left out (not photos or CSV)
          </Text>
        )}
      </Group>
      {chosen.refused.length > 0 && sent === null && (
        <Text size="xs" c="orange.9" data-testid="upload-refused">
          Left out, rename to upload: {chosen.refused.slice(0, 5).join('; ')}
          {chosen.refused.length > 5 ? ` and ${chosen.refused.length - 5} more` : ''}.
        </Text>
      )}
      {sent && (
        <Group gap="xs" wrap="nowrap">
          <Progress value={total ? (100 * sent.bytes) / total : 100} style={{ flex: 1 }} aria-label="Upload progress" />
          <Text size="xs" data-testid="upload-progress">
            {sent.files} of {chosen.files.length} files, {mb(sent.bytes)} of {mb(total)}
          </Text>
          <Button size="compact-xs" variant="default" onClick={() => abort.current?.abort()} data-testid="upload-cancel">
            Cancel
          </Button>
        </Group>
      )}
      {error && (
        <Alert color="red" data-testid="upload-error">
          {error}
        </Alert>
      )}
      {done && (
        <Text size="sm" c="teal.9" data-testid="upload-done">
          {done}
        </Text>
      )}
    </Stack>
  );
}
