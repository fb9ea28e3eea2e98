import { Table, Tooltip } from '@mantine/core';
import type { ReactNode } from 'react';

/** One sentence per term of the results screens, for people who do not read ROC curves every day. */
export const TERMS = {
  AUC: 'Area under the ROC curve: the chance that a randomly chosen positive image gets a higher score than a randomly chosen negative one (0.5 is a coin toss, 1 is perfect).',
  'balanced accuracy': 'The average of the share of each class the model gets right, so a rare class counts as much as a common one.',
  Brier:
    'The squared gaps between the predicted probabilities and the true class, summed over the classes and averaged over the images: from 0 (perfect) to 2 (sure of a wrong class every time); an even split over the classes scores 1 − 1/classes (0.5 with two).',
  ECE: 'Expected calibration error: how far, on average, the stated probabilities are from how often the model is right at that confidence (lower is better).',
  'out-of-fold': 'Every prediction comes from a model that did not see that image (or its patient) while training, so the figures describe unseen cases.',
  '95% CI': 'The range the figure would fall in for 95 of 100 resamples of the patients: a wide range means few cases behind it.',
  ΔAUC: 'The difference in AUC between two models on the same images; a 95% CI that stays above 0 means a gain chance alone would rarely give.',
  p: 'How often a difference at least this large would arise by chance if the two models were equally good (below 0.05: unlikely to be chance).',
  "Cramér's V":
    'How strongly a field goes with the label (0 none, 1 the field gives the label away); a strong tie in a field such as "missing" can leak the answer.',
  'operating point': "Where the run's decision rule sits on the curve: the sensitivity and false-positive rate of its actual yes/no calls.",
  'bootstrap band': 'The spread of the curve over resamples of the patients: the band the curve would move within with other patients.',
  sensitivity: 'The share of positive cases the model calls positive.',
  specificity: 'The share of negative cases the model calls negative.',
  loss: 'How surprised the model was by the stored label (cross-entropy): high values are the confident mistakes.',
} as const;
export type TermName = keyof typeof TERMS;

/** A term with a dotted underline and its explanation on hover or keyboard focus. */
export function Term({ name, children }: { name: TermName; children?: ReactNode }) {
  return (
    <Tooltip label={TERMS[name]} multiline w={320} withArrow events={{ hover: true, focus: true, touch: true }}>
      <span tabIndex={0} style={{ textDecoration: 'underline dotted', cursor: 'help' }} data-term={name}>
        {children ?? name}
      </span>
    </Tooltip>
  );
}

/** The header cells of a paired comparison's figures: the difference in AUC, its interval and p. */
export function PairedHeaders() {
  return (
    <>
      <Table.Th>
        <Term name="ΔAUC" />
      </Table.Th>
      <Table.Th>
        <Term name="95% CI" />
      </Table.Th>
      <Table.Th>
        <Term name="p" />
      </Table.Th>
    </>
  );
}
