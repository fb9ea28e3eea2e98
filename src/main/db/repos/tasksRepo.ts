import type { Statement } from 'better-sqlite3';
import type { Db } from '../open.ts';

export interface TaskRow {
  id: number;
  name: string;
  label_set_id: number;
  label_set: string;
  filter: string;
  per_image: number;
  blind: number;
  created_by: string;
  created_at: string;
  closed_at: string | null;
}

/**
 * A person's label, as tasks count them: a non-empty label by a person (not an import, not a model, not an
 * adjudicator's decision).
 */
const PERSON_LABEL = `a.source = 'user' AND a.class_id IS NOT NULL AND a.withdrawn_at IS NULL AND NOT EXISTS (SELECT 1 FROM adjudications j WHERE j.annotation_id = a.id)`;

/** Labelling tasks: their images, and who labelled which of them. */
export class TasksRepo {
  private readonly insert: Statement<[string, number, string, number, number, string, string]>;
  private readonly addImage: Statement<[number, number]>;
  private readonly one: Statement<[number], TaskRow>;
  private readonly all: Statement<[], TaskRow>;
  private readonly close: Statement<[string, number]>;
  private readonly openBlind: Statement<[], number>;
  private readonly perImage: Statement<[{ task: number; set: number }], { image_id: number; n: number }>;
  private readonly perAuthor: Statement<[{ task: number; set: number }], { author: string; n: number }>;
  private readonly labelledBy: Statement<[{ task: number; set: number; author: string }], number>;
  private readonly readable: Statement<[number], number>;

  constructor(private readonly db: Db) {
    const cols = 't.id, t.name, t.label_set_id, s.name AS label_set, t.filter, t.per_image, t.blind, t.created_by, t.created_at, t.closed_at';
    this.insert = db.prepare('INSERT INTO tasks (name, label_set_id, filter, per_image, blind, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.addImage = db.prepare('INSERT INTO task_images (task_id, image_id) VALUES (?, ?)');
    this.one = db.prepare(`SELECT ${cols} FROM tasks t JOIN label_sets s ON s.id = t.label_set_id WHERE t.id = ?`);
    this.all = db.prepare(`SELECT ${cols} FROM tasks t JOIN label_sets s ON s.id = t.label_set_id ORDER BY t.closed_at IS NOT NULL, t.id DESC`);
    this.close = db.prepare('UPDATE tasks SET closed_at = ? WHERE id = ? AND closed_at IS NULL');
    this.openBlind = db.prepare<[], number>('SELECT COUNT(*) FROM tasks WHERE blind = 1 AND closed_at IS NULL').pluck();
    // Per task image: how many people labelled it.
    this.perImage = db.prepare(
      `SELECT ti.image_id,
              (SELECT COUNT(DISTINCT a.author) FROM annotations a WHERE a.image_id = ti.image_id AND a.label_set_id = @set AND ${PERSON_LABEL}) AS n
       FROM task_images ti JOIN images i ON i.id = ti.image_id AND i.status = 'ok'
       WHERE ti.task_id = @task`,
    );
    this.perAuthor = db.prepare(
      `SELECT a.author, COUNT(DISTINCT a.image_id) AS n
       FROM task_images ti JOIN images i ON i.id = ti.image_id AND i.status = 'ok'
       JOIN annotations a ON a.image_id = ti.image_id AND a.label_set_id = @set AND ${PERSON_LABEL}
       WHERE ti.task_id = @task GROUP BY a.author ORDER BY n DESC, a.author`,
    );
    this.readable = db
      .prepare<[number], number>(`SELECT ti.image_id FROM task_images ti JOIN images i ON i.id = ti.image_id AND i.status = 'ok' WHERE ti.task_id = ?`)
      .pluck();
    this.labelledBy = db
      .prepare<[{ task: number; set: number; author: string }], number>(
        // The author's latest standing annotation decides: an undo that put the image back to unlabelled takes it out.
        `SELECT ti.image_id FROM task_images ti
         WHERE ti.task_id = @task AND EXISTS (SELECT 1 FROM annotations a WHERE a.id = (
           SELECT MAX(b.id) FROM annotations b WHERE b.image_id = ti.image_id AND b.label_set_id = @set AND b.author = @author AND b.source = 'user' AND b.withdrawn_at IS NULL
         ) AND ${PERSON_LABEL})`,
      )
      .pluck();
  }

  /** Creates a task with its images, in one transaction. */
  create(t: { name: string; labelSetId: number; filter: string; perImage: number; blind: boolean; createdBy: string }, imageIds: readonly number[]): number {
    return this.db.transaction(() => {
      const id = Number(this.insert.run(t.name, t.labelSetId, t.filter, t.perImage, t.blind ? 1 : 0, t.createdBy, new Date().toISOString()).lastInsertRowid);
      for (const image of imageIds) this.addImage.run(id, image);
      return id;
    })();
  }

  get(id: number): TaskRow | undefined {
    return this.one.get(id);
  }

  list(): TaskRow[] {
    return this.all.all();
  }

  /** Returns false when the task was closed already. */
  closeTask(id: number): boolean {
    return this.close.run(new Date().toISOString(), id).changes > 0;
  }

  anyOpenBlind(): boolean {
    return (this.openBlind.get() ?? 0) > 0;
  }

  /** Each readable image of the task with the number of people who labelled it. */
  imageCounts(task: TaskRow): { image_id: number; n: number }[] {
    return this.perImage.all({ task: task.id, set: task.label_set_id });
  }

  /** The task's readable images (without counting their labels). */
  readableImages(task: TaskRow): number[] {
    return this.readable.all(task.id);
  }

  /** Images of the task each person labelled. */
  authorCounts(task: TaskRow): { author: string; n: number }[] {
    return this.perAuthor.all({ task: task.id, set: task.label_set_id });
  }

  /** The task's images this person labelled. */
  labelledByAuthor(task: TaskRow, author: string): number[] {
    return this.labelledBy.all({ task: task.id, set: task.label_set_id, author });
  }
}
