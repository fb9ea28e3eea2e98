/**
 * Every ONNX protobuf field number DermFuse writes or reads, named as in onnx.proto3 (ModelProto, GraphProto, ...).
 * The writer (proto.ts) and the readers (inputShape.ts, graph.ts) use these names, never bare numbers.
 */
export const MODEL = { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8 } as const;
export const OPERATOR_SET = { domain: 1, version: 2 } as const;
export const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12 } as const;
export const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
export const ATTRIBUTE = { name: 1, f: 2, i: 3, s: 4, t: 5, floats: 7, ints: 8, type: 20 } as const;
/** AttributeProto.AttributeType values. */
export const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;
export const TENSOR = { dims: 1, dataType: 2, floatData: 4, int64Data: 7, name: 8, rawData: 9 } as const;
/** TensorProto.DataType values. */
export const DATA_TYPE = { float: 1, uint8: 2, int64: 7 } as const;
export const VALUE_INFO = { name: 1, type: 2 } as const;
export const TYPE = { tensorType: 1 } as const;
export const TENSOR_TYPE = { elemType: 1, shape: 2 } as const;
export const SHAPE = { dim: 1 } as const;
export const DIMENSION = { value: 1, param: 2 } as const;
/** The IR version written (ONNX 1.3's, which every ONNX Runtime reads). */
export const IR_VERSION = 8;
/** Protobuf wire types: varint, 64-bit, length-delimited, 32-bit. */
export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;
