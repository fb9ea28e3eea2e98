import type { Statement } from 'better-sqlite3';
import type { Db } from '../open.ts';

/** A model's suggested label per image (from an applied bundle): the latest replaces the one before. */
export class SuggestionsRepo {
  private readonly upsert: Statement<[number, string, number, string, string]>;

  constructor(db: Db) {
    this.upsert = db.prepare(
      `INSERT INTO suggestions (image_id, label, probability, bundle, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (image_id) DO UPDATE SET label = excluded.label, probability = excluded.probability, bundle = excluded.bundle, created_at = excluded.created_at`,
    );
  }

  put(imageId: number, label: string, probability: number, bundle: string, at: string): void {
    this.upsert.run(imageId, label, probability, bundle, at);
  }
}
