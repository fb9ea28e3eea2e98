import { TextInput } from '@mantine/core';
import { useEffect, useState } from 'react';
import { api } from '../api.ts';
import { useShowError } from '../errors.tsx';

/** The name stored with every label and metadata edit; saved when the field loses focus or on Enter. */
export function AnnotatorName() {
  const [name, setName] = useState('');
  const [saved, setSaved] = useState('');
  const showError = useShowError();
  useEffect(() => {
    api['settings.getAnnotator']({}).then(
      (n) => {
        setName(n);
        setSaved(n);
      },
      (err: unknown) => showError('Reading the annotator name', err),
    );
  }, [showError]);
  const save = () => {
    if (name.trim() && name !== saved) api['settings.setAnnotator']({ name }).then(setSaved, (err: unknown) => showError('Saving the annotator name', err));
  };
  return (
    <TextInput
      size="xs"
      w={180}
      aria-label="Annotator"
      leftSection="✎"
      value={name}
      onChange={(e) => setName(e.currentTarget.value)}
      onBlur={save}
      onKeyDown={(e) => {
        e.stopPropagation();
        if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
      }}
      data-testid="annotator"
    />
  );
}
