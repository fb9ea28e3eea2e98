import type { Statement } from 'better-sqlite3';
import type { Db } from '../open.ts';

export interface LatestLabelRow {
  /** The annotation's id: later labels have larger ids. */
  id: number;
  image_id: number;
  external_id: string;
  author: string;
  source: string;
  label: string | null;
  created_at: string;
}

/** Several people's labels of the same images: each annotator's latest label per image, from the annotation history. */
export class TeamRepo {
  private readonly latest: Statement<[number], LatestLabelRow>;
  private readonly latestOfImage: Statement<[number, number], LatestLabelRow>;

  constructor(db: Db) {
    const query = (oneImage: boolean) =>
      `SELECT a.id, a.image_id, i.external_id, a.author, a.source, c.name AS label, a.created_at
       FROM annotations a JOIN images i ON i.id = a.image_id AND i.status = 'ok'
       LEFT JOIN classes c ON c.id = a.class_id
       WHERE a.label_set_id = ? ${oneImage ? 'AND a.image_id = ?' : ''} AND a.source <> 'model'
         AND a.id = (SELECT MAX(b.id) FROM annotations b
                     WHERE b.image_id = a.image_id AND b.label_set_id = a.label_set_id AND b.author = a.author AND b.source = a.source
                       AND b.withdrawn_at IS NULL
                       AND NOT EXISTS (SELECT 1 FROM adjudications j WHERE j.annotation_id = b.id))
       ORDER BY a.image_id, a.author`;
    this.latest = db.prepare(query(false));
    this.latestOfImage = db.prepare(query(true));
  }

  /**
   * Each (image, annotator)'s latest label in a label set (null: they cleared it); imports count as their own
   * annotator. Adjudicators' decisions are not anyone's label here (they are the consensus, see AdjudicationsRepo).
   */
  latestLabels(labelSetId: number): LatestLabelRow[] {
    return this.latest.all(labelSetId);
  }

  /** The same for one image. */
  latestLabelsOf(labelSetId: number, imageId: number): LatestLabelRow[] {
    return this.latestOfImage.all(labelSetId, imageId);
  }
}
