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
  vsConsensus: {
    name: string;
    images: number;
    accuracy: number;
    estimatedAccuracy: number;
    sensitivity: (number | null)[];
    /** confusion[t][l]: images whose consensus class is t that this annotator labelled l. */
    confusion: number[][];
  }[];
  /** Bootstrap resamples of images behind the intervals. */
  resamples: number;
}

export const ROLES = ['annotator', 'adjudicator', 'admin'] as const;
/** What an account may do: annotators label (and edit metadata when the project allows), adjudicators also resolve disagreements, admins also manage accounts, tasks, imports and runs. */
export type Role = (typeof ROLES)[number];

/** True when `role` may do what `needed` may. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** Who is calling, as the UI shows it. */
export interface Me {
  name: string;
  role: Role;
  /** Signed in with a personal account (false: the desktop, or the server's own link, acting as the project's owner). */
  account: boolean;
  /** Labels of others and model suggestions are hidden from this caller until they label the image (a blind task is open). */
  blind: boolean;
  /** This caller may edit metadata. */
  metadataEdits: boolean;
  /** The project lets annotators edit metadata (an admin's setting). */
  annotatorsEditMetadata: boolean;
  /** The project lets an adjudicator decide a dispute they labelled (an admin's setting; off by default). */
  adjudicateOwn: boolean;
}

export interface AccountInfo {
  name: string;
  role: Role;
  createdAt: string;
  revokedAt: string | null;
}

export interface TaskProgress {
  /** Images this annotator labelled in the task. */
  name: string;
  labelled: number;
}

export interface TaskInfo {
  id: number;
  name: string;
  labelSet: string;
  perImage: number;
  blind: boolean;
  createdBy: string;
  createdAt: string;
  closedAt: string | null;
  images: number;
  /** Images with `perImage` labels from different annotators. */
  complete: number;
  /** Labels given in the task (each annotator's latest per image), and the labels it needs in all. */
  labels: number;
  needed: number;
  annotators: TaskProgress[];
}

/** The next image of an annotator's queue, with where they stand. */
export interface TaskNext {
  task: TaskInfo;
  /** null: nothing left for this annotator (every image labelled by them or already labelled enough). */
  imageId: number | null;
  mine: number;
  /** Images this annotator may still label in the task. */
  left: number;
}

/** An image whose annotators disagree, for the adjudicator. */
export interface Disagreement {
  imageId: number;
  externalId: string;
  labels: { author: string; label: string | null; at: string }[];
  /** The out-of-fold probabilities of the newest run that scored this image (fused mode, else image-only), if any. */
  model: { runId: number; mode: string; probabilities: { className: string; probability: number }[] } | null;
  /** The adjudicator's decision, when already taken (later labels reopen it). */
  decision: { label: string; reason: string; author: string; at: string } | null;
  /** The label the import gave (e.g. a biopsy-proven diagnosis): a reference beside the annotators, not one of them. */
  reference: string | null;
}

/** One line of the access log: who viewed or changed what, when and from where. */
export interface ActivityEntry {
  at: string;
  who: string;
  role: Role;
  /** A call (images.get, labels.set, ...) or media.image (a full photo served). */
  action: string;
  imageId: number | null;
  /** The image's id in the dataset, when the entry names one. */
  externalId: string | null;
  /** Batch calls: how many images they named. */
  images: number | null;
  /** "ok" or the error code the call was answered with. */
  outcome: string;
  /** The client's address, or "this machine" (the window). */
  origin: string;
}
