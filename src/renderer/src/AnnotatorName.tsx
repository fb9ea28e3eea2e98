import { TextInput } from '@mantine/core';
import { useEffect, useState } from 'react';
import { api } from './api.ts';

/** The name stored with every label and metadata edit; saved when the field loses focus or on Enter. */
export function AnnotatorName() {
  const [name, setName] = useState('');
  const [saved, setSaved] = useState('');
  useEffect(() => {
    api['settings.getAnnotator']({}).then((n) => {
      setName(n);
      setSaved(n);
    }, () => undefined);
  }, []);
  const save = () => {
    if (name.trim() && name !== saved) void api['settings.setAnnotator']({ name }).then(setSaved);
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
