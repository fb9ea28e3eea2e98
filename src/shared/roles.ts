import type { CallName } from './api.ts';
import type { Role } from './team.ts';

/**
 * The least role each call needs. Annotators read, label and edit metadata; adjudicators also see per-image model
 * output and other people's decisions and resolve disagreements; admins change the project (imports, label sets,
 * runs, accounts, tasks). A desktop project and the server's own link act as an admin.
 */
export const MIN_ROLE: { readonly [K in CallName]: Role } = {
  'project.create': 'admin',
  'project.open': 'admin',
  'project.sample': 'admin',
  'project.info': 'annotator',
  'project.recent': 'annotator',
  'images.list': 'annotator',
  'images.get': 'annotator',
  'labels.set': 'annotator',
  'edits.undo': 'annotator',
  'labels.setMany': 'annotator',
  'fields.setMany': 'annotator',
  'images.facets': 'annotator',
  'labelSets.get': 'annotator',
  'labelSets.save': 'admin',
  'fields.rename': 'admin',
  'import.plan': 'admin',
  'jobs.start': 'admin',
  'jobs.list': 'annotator',
  'jobs.watch': 'annotator',
  'jobs.cancel': 'admin',
  'features.list': 'annotator',
  'finetune.caches': 'admin',
  'finetune.removeCache': 'admin',
  'features.catalogue': 'annotator',
  'runs.list': 'annotator',
  'runs.report': 'annotator',
  'runs.cases': 'adjudicator',
  'runs.labelIssues': 'adjudicator',
  'runs.map': 'adjudicator',
  'labels.review': 'adjudicator',
  'fields.set': 'annotator',
  'settings.getAnnotator': 'annotator',
  'settings.setAnnotator': 'admin',
  'suggestions.apply': 'admin',
  'quality.duplicates': 'adjudicator',
  'quality.review': 'adjudicator',
  'quality.labelNext': 'annotator',
  'team.agreement': 'adjudicator',
  'team.me': 'annotator',
  'team.tasks': 'annotator',
  'team.next': 'annotator',
  'team.createTask': 'admin',
  'team.closeTask': 'admin',
  'team.disagreements': 'adjudicator',
  'team.adjudicate': 'adjudicator',
  'team.users': 'admin',
  'team.addUser': 'admin',
  'team.revokeUser': 'admin',
  'team.setMetadataEdits': 'admin',
  'team.activity': 'admin',
  'system.pickFolder': 'annotator',
  'files.browse': 'admin',
  'uploads.begin': 'admin',
  'uploads.finish': 'admin',
  'uploads.discard': 'admin',
  'team.setOwnAdjudication': 'admin',
  // Per-image model output, as runs.cases.
  'runs.explain': 'adjudicator',
  'runs.explainPng': 'adjudicator',
  // Headline figures as runs.list; a report holds per-image output (runs.cases); a plan reads other folders (import.plan).
  'validations.list': 'annotator',
  'validations.get': 'adjudicator',
  'validations.plan': 'admin',
};

/**
 * Calls a blind annotator may not make while a blind task is open: they show other people's labels, counts that move
 * with them, or model output (runs trained on those labels, the doubt that orders "label next").
 */
export const HIDDEN_WHEN_BLIND: ReadonlySet<CallName> = new Set<CallName>([
  'images.list',
  'images.facets',
  'labels.setMany',
  'runs.list',
  'runs.report',
  'quality.labelNext',
  'runs.explain',
  'runs.explainPng',
  'validations.list',
]);
