import { describe, expect, it } from 'vitest';
import { csvCell, decodeCsvBytes, parseCsv, sniffDelimiter, splitRecords } from '../../src/main/files/csv.ts';
import { rngFrom } from '../../src/main/ml/stats/random.ts';

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

  it('refuses characters after a closing quote ("MEL"x) instead of reading MELx, naming line and column', () => {
    expect(() => splitRecords('id,dx\nA,"MEL"x\n', ',')).toThrow(/line 2, column 2: characters follow the closing quote/);
    expect(splitRecords('id,dx\nA,"MEL"\r\nB,"NEV",\n', ',').map((r) => r.cells)).toEqual([
      ['id', 'dx'],
      ['A', 'MEL'],
      ['B', 'NEV', ''],
    ]);
  });

  it('decodes UTF-16 by its byte-order mark, refuses NUL bytes without one, and reads Windows-1252 saying so', () => {
    const text = 'image_id,site\nA,Região\n';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le.subarray(2)).swap16();
    expect(decodeCsvBytes(le, 'm.csv').text).toBe(text);
    expect(decodeCsvBytes(Buffer.concat([Buffer.from([0xfe, 0xff]), be]), 'm.csv').text).toBe(text);
    expect(() => decodeCsvBytes(Buffer.from(text, 'utf16le'), 'm.csv')).toThrow(/m\.csv is not a text CSV file: it holds NUL bytes/);
    const cp1252 = decodeCsvBytes(Buffer.from('id,site\nA,Regi\xe3o\n', 'latin1'), 'm.csv');
    expect(cp1252.text).toBe('id,site\nA,Região\n');
    expect(cp1252.problems[0]!.message).toMatch(/not valid UTF-8: read as Windows-1252/);
    expect(decodeCsvBytes(Buffer.from('\ufeffid\nA\n'), 'm.csv')).toEqual({ text: 'id\nA\n', problems: [] });
  });

  it('writes cells a spreadsheet would run as formulas with a leading apostrophe, and numbers as they are', () => {
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('+cmd|calc')).toBe("'+cmd|calc");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('-3.5')).toBe('-3.5');
    expect(csvCell('+7')).toBe('+7');
    expect(csvCell('plain')).toBe('plain');
  });

  it('round-trips random cells, formula-like ones included, through csvCell and the parser', () => {
    const rand = rngFrom(7);
    const alphabet = ["'", '=', '+', '-', '@', '\t', '\r', '\n', '"', ',', ';', 'a', '1', '.', ' ', 'é'];
    for (let trial = 0; trial < 300; trial++) {
      const cells = Array.from({ length: 4 }, () =>
        Array.from({ length: Math.floor(rand() * 7) }, () => alphabet[Math.floor(rand() * alphabet.length)]!).join(''),
      );
      const text = `a,b,c,d\n${cells.map(csvCell).join(',')}\n`;
      const parsed = parseCsv(text, 'x.csv').rows[0]?.cells ?? ['', '', '', ''];
      // A record of four empty cells is a blank line; every other record must come back exactly (CR inside a
      // quoted field included).
      if (cells.every((c) => c === '')) continue;
      expect(parsed, JSON.stringify(cells)).toEqual(cells);
    }
  });

  it('reads the head of a longer file (a preview) up to its last whole record, whether the cut falls in a cell or in quotes', () => {
    const text = 'id,note\nA,"two\nlines"\nB,plain\n';
    for (let cut = 'id,note\nA,"two\nlines"\n'.length; cut < text.length; cut++) {
      expect(splitRecords(text.slice(0, cut), ',', true).map((r) => r.cells)).toEqual([
        ['id', 'note'],
        ['A', 'two\nlines'],
      ]);
    }
    // Cut inside the quoted field: the record it starts is dropped, not refused as a quote never closed.
    expect(splitRecords('id,note\nA,"two\nli', ',', true).map((r) => r.cells)).toEqual([['id', 'note']]);
    expect(() => splitRecords('id,note\nA,"two\nli', ',')).toThrow(/line 2: a quoted field is never closed/);
  });
});
