export type { LabelSetInfo, ProjectInfo } from '../../../shared/types.ts';

/** The fields of an extraction job's result the UI shows. */
export interface ExtractSummaryLike {
  extracted: number;
  cached: number;
  failed: number;
  dim: number;
  imagesPerSecond: number;
  backend: string;
}
