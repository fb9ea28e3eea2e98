export type { LabelSetInfo, ProjectInfo } from '../../../shared/types.ts';
