/**
 * A minimal protobuf reader for ONNX files: yields a message's fields (varints, 32-bit floats and length-delimited
 * bytes; 64-bit fixed fields skipped). Callers decode only the fields on their path; everything else is passed over.
 */
import { WIRE } from './schema.ts';

export interface Field {
  no: number;
  wire: number;
  /** varint value, the float of a 32-bit field, or the bytes of a length-delimited field. */
  value: number | Uint8Array;
}

export function* fields(buf: Uint8Array): Generator<Field> {
  let i = 0;
  const varint = (): number => {
    const start = i;
    let result = 0;
    let scale = 1;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    // Over 7 bytes a double loses the low bits: a negative int64 (ten bytes) is read exactly as a signed value.
    if (i - start <= 7) return result;
    let big = 0n;
    for (let k = i - 1; k >= start; k--) big = (big << 7n) | BigInt(buf[k]! & 0x7f);
    return Number(BigInt.asIntN(64, big));
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
    else if (wire === WIRE.fixed32) {
      // Only floats are 32-bit fields in ONNX (AttributeProto.f, unpacked floats).
      if (i + 4 > buf.length) throw new Error('truncated field');
      yield { no, wire, value: new DataView(buf.buffer, buf.byteOffset + i, 4).getFloat32(0, true) };
      i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

export const text = (b: Uint8Array) => new TextDecoder().decode(b);
export const sub = (f: Field) => (f.value instanceof Uint8Array ? f.value : new Uint8Array());
