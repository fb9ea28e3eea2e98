/** Team labelling as the contract carries it: agreement between annotators. */

export type Interval = [number, number];

export interface AgreementReport {
  labelSet: string;
  classes: string[];
  /** Each annotator (imported labels count as one, named "imported"), with how many images they labelled. */
  annotators: { name: string; images: number }[];
  /** Images with labels from two annotators or more: what agreement is measured on. */
  images: number;
  percentAgreement: number | null;
  fleissKappa: { value: number; ci: Interval } | null;
  krippendorffAlpha: { value: number; ci: Interval } | null;
  pairs: { a: string; b: string; images: number; agreement: number; kappa: number; ci: Interval }[];
  /** Specific agreement per class: of the times one of two annotators said the class, how often the other did too. */
  perClass: { className: string; agreement: number | null }[];
  /** Each annotator against the Dawid-Skene consensus of the others' and their own labels. */
  vsConsensus: { name: string; images: number; accuracy: number; estimatedAccuracy: number; sensitivity: (number | null)[] }[];
  /** Bootstrap resamples of images behind the intervals. */
  resamples: number;
}
