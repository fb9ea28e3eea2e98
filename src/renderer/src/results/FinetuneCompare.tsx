import { Stack, Table, Text, Title } from '@mantine/core';
import { formatP, type FinetuneReport } from '../../../shared/results.ts';
import { PairedHeaders, Term } from './Term.tsx';

const f3 = (x: number) => x.toFixed(3);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${f3(x)}`;
const ROWS = [
  ['image', 'Image only'],
  ['fused', 'Fused'],
  ['metadata', 'Metadata only (the frozen run’s model)'],
] as const;

/** A fine-tuned run against its frozen run on the same folds: both AUCs, the paired difference and what trained. */
export function FinetuneCompare({ f, auc }: { f: FinetuneReport; auc: Record<'image' | 'metadata' | 'fused', number> }) {
  const seconds = f.cacheSeconds + f.trainSeconds;
  return (
    <Stack gap={4} data-testid="finetune-compare">
      <Title order={6}>Fine-tuned vs frozen (run #{f.baselineRunId}, the same folds)</Title>
      <Table fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Model</Table.Th>
            <Table.Th>
              Frozen <Term name="AUC" />
            </Table.Th>
            <Table.Th>
              Fine-tuned <Term name="AUC" />
            </Table.Th>
            <PairedHeaders />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {ROWS.map(([m, name]) => (
            <Table.Tr key={m} data-testid={`finetune-${m}`}>
              <Table.Td>{name}</Table.Td>
              <Table.Td>{f3(f.frozen[m].auc)}</Table.Td>
              <Table.Td>{f3(auc[m])}</Table.Td>
              <Table.Td>{signed(f.vsFrozen[m].difference)}</Table.Td>
              <Table.Td>
                [{signed(f.vsFrozen[m].ci[0])}, {signed(f.vsFrozen[m].ci[1])}]
              </Table.Td>
              <Table.Td>{formatP(f.vsFrozen[m].p)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Text size="xs" c="dimmed" data-testid="finetune-what">
        Trained: everything after <code>{f.cut}</code> ({f.trainedConvolutions} of {f.totalConvolutions} convolutions of {f.backbone}), with the image and fused
        heads; the rest of the network kept its pretrained weights. {f.views} {f.views === 1 ? 'view' : 'views'} per image (flips and quarter turns) trained on
        {f.views > 1 ? ' and averaged at test time (the frozen run saw one view: the difference includes what averaging views adds)' : ''}
        {f.augment?.length
          ? `; as many random views (${f.augment.map((a) => (a === 'crops' ? 'crops' : 'colour jitter')).join(' and ')}) trained on too, never averaged`
          : ''}
        . Best epoch per fold {f.bestEpochs.join(', ')} of at most {f.epochs} (early stopping on held-out patients), {f.finalBestEpoch} for the final network.
        Took {Math.round(seconds)} s: {Math.round(f.cacheSeconds)} s caching the frozen part, {Math.round(f.trainSeconds)} s training on {f.workers}{' '}
        {f.workers === 1 ? 'worker' : 'workers'} ({f.samplesPerSecond.toFixed(1)} samples/s each).
      </Text>
    </Stack>
  );
}
