import { Alert, Button, Group, Modal, ScrollArea, Stack, Text, TextInput, UnstyledButton } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { FolderListing } from '../../../shared/types.ts';
import { api, isDesktop } from '../api.ts';
import { errorMessage } from '../errors.tsx';

const base = (p: string) => p.split(/[\\/]/).filter(Boolean).pop() ?? p;

/** A path typed or chosen with Browse…; `testId` names the input (import-…, or `inputTestId`) and the button (browse-…). */
export function PathField(props: {
  kind: 'folder' | 'csv';
  label: string;
  placeholder: string;
  value: string;
  onChange(v: string): void;
  testId: string;
  inputTestId?: string;
}) {
  return (
    <Group align="end" style={{ flex: 1 }}>
      <TextInput
        style={{ flex: 1 }}
        label={props.label}
        placeholder={props.placeholder}
        value={props.value}
        onChange={(e) => props.onChange(e.currentTarget.value)}
        data-testid={props.inputTestId ?? `import-${props.testId}`}
      />
      <BrowseButton kind={props.kind} onChoose={props.onChange} testId={`browse-${props.testId}`} />
    </Group>
  );
}

/**
 * The "Browse…" of a path field. In the window: the system's own dialog. In serve: a listing of the server's data
 * folders (the server refuses anything outside them), folder by folder; a CSV file or the folder itself is chosen.
 */
export function BrowseButton({ kind, onChoose, testId }: { kind: 'folder' | 'csv'; onChoose(path: string): void; testId: string }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const click = async () => {
    if (!isDesktop) return setOpen(true);
    try {
      const chosen = await api['system.pickFolder']({ title: kind === 'csv' ? 'Metadata CSV' : 'Image folder', kind });
      if (chosen) onChoose(chosen);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <>
      <Button variant="default" onClick={() => void click()} data-testid={testId} title={error ?? undefined}>
        Browse…
      </Button>
      {open && (
        <FolderBrowser
          kind={kind}
          onClose={() => setOpen(false)}
          onChoose={(p) => {
            setOpen(false);
            onChoose(p);
          }}
        />
      )}
    </>
  );
}

function FolderBrowser({ kind, onClose, onChoose }: { kind: 'folder' | 'csv'; onClose(): void; onChoose(path: string): void }) {
  const [dir, setDir] = useState<string | undefined>(undefined);
  const [listing, setListing] = useState<FolderListing | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api['files.browse']({ dir }).then(
      (l) => {
        setListing(l);
        setError(null);
      },
      (e: unknown) => setError(errorMessage(e)),
    );
  }, [dir]);
  return (
    <Modal opened onClose={onClose} title={kind === 'csv' ? 'Choose the metadata CSV' : 'Choose the image folder'} size="lg">
      <Stack gap="xs" data-testid="folder-browser">
        {error && (
          <Alert color="red" data-testid="folder-browser-error">
            {error}
          </Alert>
        )}
        {listing && (
          <>
            <Text size="sm" fw={600} data-testid="folder-browser-dir">
              {listing.dir ?? 'Data folders this server may read'}
            </Text>
            {listing.dir && (
              <Text size="xs" c="dimmed">
                {listing.images} image{listing.images === 1 ? '' : 's'} here, {listing.folders.length} folder{listing.folders.length === 1 ? '' : 's'}
                {listing.truncated ? ' (first 500 listed)' : ''}
              </Text>
            )}
            <ScrollArea h={300} type="auto">
              <Stack gap={2}>
                {listing.dir && (
                  <UnstyledButton onClick={() => setDir(listing.parent ?? undefined)} data-testid="folder-up" className="df-row">
                    ⬑ {listing.parent ? base(listing.parent) : 'the data folders'}
                  </UnstyledButton>
                )}
                {listing.folders.map((f) => (
                  <UnstyledButton key={f} onClick={() => setDir(f)} data-testid={`folder-${base(f)}`} className="df-row">
                    📁 {listing.dir ? base(f) : f}
                  </UnstyledButton>
                ))}
                {kind === 'csv' &&
                  listing.csvFiles.map((f) => (
                    <UnstyledButton key={f} onClick={() => onChoose(f)} data-testid={`csv-${base(f)}`} className="df-row">
                      📄 {base(f)}
                    </UnstyledButton>
                  ))}
              </Stack>
            </ScrollArea>
          </>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          {kind === 'folder' && (
            <Button disabled={!listing?.dir} onClick={() => listing?.dir && onChoose(listing.dir)} data-testid="folder-choose">
              Use this folder
            </Button>
          )}
        </Group>
      </Stack>
    </Modal>
  );
}
