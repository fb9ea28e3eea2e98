import { ValidationPanel } from './ValidationView.tsx';
import { Badge, Group, SegmentedControl, Select, SimpleGrid, Stack, Tabs, Text, Title } from '@mantine/core';
import { useEffect, useMemo, useState } from 'react';
import { MODES, type Mode, type RunReportView } from '../../../shared/results.ts';
import { api } from '../api.ts';
import { Chart } from '../charts/Chart.tsx';
import { CasesList, type CaseSelection } from './CasesList.tsx';
import { calibrationOption, cellOf, confusionOption, prOption, rocOption, subgroupOption } from './chartOptions.ts';
import { RunSummary } from './RunSummary.tsx';
import { Subgroups } from './SubgroupsView.tsx';
import { Term } from './Term.tsx';
import { EmbeddingMapView } from './EmbeddingMapView.tsx';
import { LabelIssues } from './LabelIssues.tsx';
import { Importance } from './Importance.tsx';
import { CallError, useCall } from '../errors.tsx';

export function RunReport({ runId, onChanged, onOpenInBrowser }: { runId: number; onChanged(): void; onOpenInBrowser(ids: number[], title: string): void }) {
  const [curveClass, setCurveClass] = useState<string | undefined>(undefined);
  const [tab, setTab] = useState<string | null>('summary');
  const [cmMode, setCmMode] = useState<Mode>('fused');
  const [cases, setCases] = useState<CaseSelection>({ mode: 'fused', filter: 'wrong' });
  const [subField, setSubField] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const call = useCall(() => api['runs.report']({ runId, curveClass }), [runId, curveClass, version]);
  const report: RunReportView | null = call.data;
  useEffect(() => {
    if (report) setSubField((f) => f ?? report.subgroups.rows[0]?.field ?? null);
  }, [report]);
  const changed = () => {
    setVersion((v) => v + 1);
    onChanged();
  };
  const options = useMemo(() => (report ? { roc: rocOption(report), pr: prOption(report), cal: calibrationOption(report) } : null), [report]);
  const cm = useMemo(() => (report ? confusionOption(report.modes[cmMode].confusion, report.classes) : null), [report, cmMode]);
  const sub = useMemo(() => (report && subField ? subgroupOption(report, subField) : null), [report, subField]);
  if (!report || !options || !cm) return call.error ? <CallError call={call} what={`Reading run ${runId}`} /> : <Text c="dimmed">Loading run {runId}…</Text>;
  return (
    <Stack gap="xs" data-testid="run-report">
      <Group>
        <Title order={3}>
          Run #{runId}: {report.run.positive ? `${report.run.positive.join('/')} vs rest` : report.run.label}
        </Title>
        {report.run.staleImages > 0 && (
          <Badge color="yellow" data-testid="report-stale">
            based on older labels: {report.run.staleImages} changed since
          </Badge>
        )}
      </Group>
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="summary">Summary</Tabs.Tab>
          <Tabs.Tab value="curves" data-testid="tab-curves">
            Curves
          </Tabs.Tab>
          <Tabs.Tab value="confusion" data-testid="tab-confusion">
            Confusion &amp; cases
          </Tabs.Tab>
          <Tabs.Tab value="subgroups" data-testid="tab-subgroups">
            Subgroups
          </Tabs.Tab>
          <Tabs.Tab value="importance" data-testid="tab-importance">
            What it relies on
          </Tabs.Tab>
          <Tabs.Tab value="issues" data-testid="tab-issues">
            Likely label errors
          </Tabs.Tab>
          <Tabs.Tab value="validation" data-testid="tab-validation">
            External validation
          </Tabs.Tab>
          <Tabs.Tab value="map" data-testid="tab-map">
            Map
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="summary" pt="xs">
          <RunSummary r={report} />
        </Tabs.Panel>
        <Tabs.Panel value="curves" pt="xs">
          {report.classes.length > 2 && (
            <Select
              size="xs"
              w={200}
              label="Curves for class (one vs rest)"
              data={report.classes}
              value={report.curveClass}
              onChange={(v) => setCurveClass(v ?? undefined)}
              allowDeselect={false}
            />
          )}
          <Text size="xs" c="dimmed" my={4}>
            Shaded: the 95% <Term name="bootstrap band" /> over {report.run.group === 'image' ? 'images' : `${report.run.group}s`}. ◆: the run&apos;s{' '}
            <Term name="operating point" /> (its actual yes/no calls for {report.curveClass}).
          </Text>
          <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
            <div>
              <Title order={6}>ROC</Title>
              <Chart option={options.roc} height={340} name={`run-${runId}-roc`} testId="chart-roc" />
            </div>
            <div>
              <Title order={6}>Precision–recall</Title>
              <Chart option={options.pr} height={340} name={`run-${runId}-pr`} testId="chart-pr" />
            </div>
            <div>
              <Title order={6}>
                Calibration (<Term name="ECE" />)
              </Title>
              <Chart option={options.cal} height={340} name={`run-${runId}-calibration`} testId="chart-calibration" />
            </div>
          </SimpleGrid>
        </Tabs.Panel>
        <Tabs.Panel value="confusion" pt="xs">
          <Group align="start" wrap="nowrap">
            <Stack w={260} gap={4} style={{ flexShrink: 0 }}>
              <SegmentedControl size="xs" data={[...MODES]} value={cmMode} onChange={(v) => setCmMode(v as Mode)} data-testid="cm-mode" />
              <Chart
                option={cm}
                height={340}
                name={`run-${runId}-confusion-${cmMode}`}
                testId="chart-confusion"
                onClick={(p) => setCases({ ...cellOf(p.value as [number, number, number], report.classes), mode: cmMode, filter: 'all' })}
              />
              <Text size="xs" c="dimmed">
                Click a cell to list its images.
              </Text>
            </Stack>
            <div style={{ flex: 1, minWidth: 0 }}>
              <CasesList
                runId={runId}
                classes={report.classes}
                positive={report.run.positive}
                selection={cases}
                onSelection={setCases}
                onChanged={changed}
                onOpenInBrowser={onOpenInBrowser}
              />
            </div>
          </Group>
        </Tabs.Panel>
        <Tabs.Panel value="subgroups" pt="xs">
          <Subgroups
            table={report.subgroups}
            unit={report.run.group}
            basis="the out-of-fold predictions"
            field={subField}
            onField={setSubField}
            option={sub}
            name={`run-${runId}`}
          />
        </Tabs.Panel>
        <Tabs.Panel value="importance" pt="xs">
          <Importance imp={report.importance} runId={runId} />
        </Tabs.Panel>
        <Tabs.Panel value="issues" pt="xs">
          <LabelIssues runId={runId} onChanged={changed} />
        </Tabs.Panel>
        <Tabs.Panel value="validation" pt="xs">
          <ValidationPanel runId={runId} />
        </Tabs.Panel>
        <Tabs.Panel value="map" pt="xs">
          <EmbeddingMapView runId={runId} onOpen={onOpenInBrowser} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
