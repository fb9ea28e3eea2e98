import { describe, expect, it } from 'vitest';
import { csvCell, parseCsv, sniffDelimiter, splitRecords } from '../../src/main/images/csv.ts';

describe('CSV parsing', () => {
  it('strips a UTF-8 BOM from the first header name', () => {
    const t = parseCsv('\ufeffimage_id,dx\nA,nv\n', 'm.csv');
    expect(t.header).toEqual(['image_id', 'dx']);
  });

  it('detects semicolon and tab delimiters from the header line', () => {
    expect(sniffDelimiter('a;b;c\n1;2;3')).toBe(';');
    expect(sniffDelimiter('a\tb\n1\t2')).toBe('\t');
    expect(sniffDelimiter('"a;b",c\n')).toBe(',');
    expect(parseCsv('id;age\nX;4,5\n', 'm.csv').rows[0]!.cells).toEqual(['X', '4,5']);
  });

  it('keeps delimiters, doubled quotes and newlines inside quoted fields and reports the starting line', () => {
    const rows = splitRecords('id,note\nA,"line one\nline two, with ""quotes"""\nB,plain\r\nC,x', ',');
    expect(rows.map((r) => r.cells)).toEqual([
      ['id', 'note'],
      ['A', 'line one\nline two, with "quotes"'],
      ['B', 'plain'],
      ['C', 'x'],
    ]);
    expect(rows.map((r) => r.line)).toEqual([1, 2, 4, 5]);
  });

  it('drops trailing empty columns and pads short rows, naming the line', () => {
    const t = parseCsv('id,age,,\nA,3,,\nB\n', 'm.csv');
    expect(t.header).toEqual(['id', 'age']);
    expect(t.rows[1]!.cells).toEqual(['B', '']);
    expect(t.problems).toEqual([expect.objectContaining({ source: 'm.csv line 3' })]);
  });

  it('reports a row with extra non-empty cells by file and line', () => {
    const t = parseCsv('id,age\nA,3,oops\n', 'meta.csv');
    expect(t.problems[0]!.source).toBe('meta.csv line 2');
    expect(t.rows[0]!.cells).toEqual(['A', '3']);
  });

  it('renames a duplicated header so no column is lost', () => {
    const t = parseCsv('id,age,age\nA,3,4\n', 'm.csv');
    expect(t.header).toEqual(['id', 'age', 'age_2']);
  });

  it('refuses an unterminated quote with the line it starts on', () => {
    expect(() => parseCsv('id,note\nA,"open\nB,x\n', 'm.csv')).toThrow(/line 2/);
  });

  it('refuses an empty file', () => {
    expect(() => parseCsv('', 'empty.csv')).toThrow(/empty\.csv is empty/);
  });

  it('round-trips any cell through csvCell and the parser', () => {
    const cells = ['plain', 'with,comma', 'with "quote"', 'multi\nline', ' padded ', 'semi;colon', ''];
    const text = `a,b,c,d,e,f,g\n${cells.map(csvCell).join(',')}\n`;
    expect(parseCsv(text, 'x.csv').rows[0]!.cells).toEqual(cells);
  });
});
