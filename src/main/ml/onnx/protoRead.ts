/**
 * A minimal protobuf reader for ONNX files: yields a message's fields (varints and length-delimited bytes; fixed
 * widths skipped). Callers decode only the fields on their path; everything else is passed over.
 */
import { WIRE } from './schema.ts';

export interface Field {
  no: number;
  wire: number;
  /** varint value, or the bytes of a length-delimited field. */
  value: number | Uint8Array;
}

export function* fields(buf: Uint8Array): Generator<Field> {
  let i = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === WIRE.varint) yield { no, wire, value: varint() };
    else if (wire === WIRE.bytes) {
      const len = varint();
      if (i + len > buf.length) throw new Error('truncated field');
      yield { no, wire, value: buf.subarray(i, i + len) };
      i += len;
    } else if (wire === WIRE.fixed64) i += 8;
    else if (wire === WIRE.fixed32) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

export const text = (b: Uint8Array) => new TextDecoder().decode(b);
export const sub = (f: Field) => (f.value instanceof Uint8Array ? f.value : new Uint8Array());
