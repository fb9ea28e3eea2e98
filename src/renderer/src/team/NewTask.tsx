import { Button, Checkbox, Group, NumberInput, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { api } from '../api.ts';
import { errorMessage, useCall } from '../errors.tsx';

/**
 * Makes a labelling task: which images (every image, the unlabelled ones, or one class; optionally those whose id
 * contains a text), how many independent labels each needs, and whether labelling is blind.
 */
export function NewTask({ onCreated }: { onCreated(): void }) {
  const labelSet = useCall(() => api['labelSets.get']({}), []);
  const [name, setName] = useState('');
  const [scope, setScope] = useState('all');
  const [search, setSearch] = useState('');
  const [perImage, setPerImage] = useState<number | string>(2);
  const [blind, setBlind] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const create = async () => {
    setError(null);
    setDone(null);
    try {
      const label = scope === 'all' ? undefined : scope === 'unlabelled' ? null : scope.slice('class:'.length);
      const t = await api['team.createTask']({
        name,
        filter: { ...(label !== undefined && { label }), ...(search.trim() && { search: search.trim() }) },
        perImage: Number(perImage),
        blind,
      });
      setDone(`Task "${t.name}": ${t.images} images, ${t.needed} labels to give.`);
      setName('');
      onCreated();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <Stack gap="xs" maw={720} data-testid="new-task">
      <Title order={5}>New task</Title>
      <Group align="end" gap="xs">
        <TextInput size="xs" label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} data-testid="task-name" />
        <Select
          size="xs"
          label="Images"
          data={[
            { value: 'all', label: 'Every image' },
            { value: 'unlabelled', label: 'Unlabelled images' },
            ...(labelSet.data?.classes ?? []).map((c) => ({ value: `class:${c.name}`, label: `Labelled ${c.name}` })),
          ]}
          value={scope}
          onChange={(v) => setScope(v ?? 'all')}
          allowDeselect={false}
          data-testid="task-scope"
        />
        <TextInput size="xs" label="Id contains" value={search} onChange={(e) => setSearch(e.currentTarget.value)} data-testid="task-search" />
        <NumberInput size="xs" w={110} label="Labels per image" min={1} max={5} value={perImage} onChange={setPerImage} data-testid="task-per-image" />
        <Checkbox size="xs" label="Blind" checked={blind} onChange={(e) => setBlind(e.currentTarget.checked)} data-testid="task-blind" />
        <Button size="xs" onClick={() => void create()} disabled={!name.trim()} data-testid="task-create">
          Create
        </Button>
      </Group>
      <Text size="xs" c="dimmed">
        Blind: an annotator sees no one else&apos;s label and no model suggestion for an image until they have labelled it (and cannot browse labels while the
        task is open).
      </Text>
      {error && (
        <Text c="red" size="sm" data-testid="task-create-error">
          {error}
        </Text>
      )}
      {done && (
        <Text size="sm" data-testid="task-created">
          {done}
        </Text>
      )}
    </Stack>
  );
}
