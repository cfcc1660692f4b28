// GDScript codecs for every message of packets.proto, generated from the same compiled descriptor
// ts-proto's codecs come from (src/packets/generated/descriptor.generated.ts). Proto3 exactly as
// ts-proto writes it: fields in declaration order, defaults left out, numeric repeated fields packed
// (and read packed or not), nested messages, the oneof, varints of up to 10 bytes (negative int32s),
// and unknown fields skipped, so that a newer server never breaks an older kit.
import { fromBinary, isFieldSet } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FieldDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type DescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { PACKETS_DESCRIPTOR } from "../packets/generated/descriptor.generated.ts";

export interface MessageInfo {
  name: string;
  message: DescriptorProto;
  /** The comment above the message in the .proto, and above each of its fields (by index). */
  doc: string;
  fieldDocs: string[];
}

/** Who sends a case of Packet's oneof: the client, the server, or both. */
export type Direction = "client" | "server" | "both";

export interface PacketCase {
  name: string;
  number: number;
  /** The message type's name. */
  type: string;
  direction: Direction;
  /** What the .proto says of it, after the direction. */
  doc: string;
}

/** packets.proto breaks a convention the kit relies on. */
export class ProtocolError extends Error {}

/** packets.proto, compiled (with its comments). */
export function packetsFile(): FileDescriptorProto {
  const set = fromBinary(FileDescriptorSetSchema, Buffer.from(PACKETS_DESCRIPTOR, "base64"));
  const file = set.file.find((f) => f.name === "packets.proto");
  if (!file) throw new Error("the descriptor has no packets.proto");
  return file;
}

/** The leading comment of each element of the file, by its path (e.g. "4,2" is the third message). */
function commentsOf(file: FileDescriptorProto): Map<string, string> {
  const comments = new Map<string, string>();
  for (const location of file.sourceCodeInfo?.location ?? []) {
    const text = location.leadingComments.trim();
    if (text) comments.set(location.path.join(","), text.replace(/\n +/g, "\n"));
  }
  return comments;
}

/** The messages of the file, in the order it declares them; `Packet` last of all in packets.proto. */
export function packetMessages(file: FileDescriptorProto = packetsFile()): MessageInfo[] {
  const comments = commentsOf(file);
  return file.messageType.map((message, i) => ({
    name: message.name,
    message,
    doc: comments.get(`4,${i}`) ?? "",
    fieldDocs: message.field.map((_, j) => comments.get(`4,${i},2,${j}`) ?? ""),
  }));
}

const DIRECTION = /^(client -> server|server -> client|both ways):\s*/i;

/**
 * The cases of Packet's oneof, each with its direction, which the comment above it must begin with
 * (`client -> server:`, `server -> client:` or `both ways:`); throws ProtocolError naming a case without.
 */
export function packetCases(file: FileDescriptorProto = packetsFile()): PacketCase[] {
  const packet = packetMessages(file).find((m) => m.name === "Packet");
  if (!packet) throw new ProtocolError(`${file.name} has no message Packet`);
  const { className } = schemaOf(file);
  const cases: PacketCase[] = [];
  for (const [j, field] of packet.message.field.entries()) {
    if (oneofOf(field) === undefined || field.type !== Type.MESSAGE) continue;
    const doc = packet.fieldDocs[j] ?? "";
    const said = doc.match(DIRECTION)?.[1]?.toLowerCase();
    if (!said) {
      throw new ProtocolError(
        `${file.name}: the case ${field.name} (${field.number}) of Packet needs a comment above it that starts with its direction: "client -> server:", "server -> client:" or "both ways:"`,
      );
    }
    if (field.name === "packet") throw new ProtocolError(`${file.name}: a case of Packet may not be named packet (its signal would be the kit's packet_received); rename it`);
    const direction: Direction = said === "client -> server" ? "client" : said === "server -> client" ? "server" : "both";
    cases.push({ name: field.name, number: field.number, type: className(field.typeName), direction, doc: doc.replace(DIRECTION, "") });
  }
  return cases;
}

/** A comment as GDScript doc comment lines, indented by `indent` tabs. */
function docLines(text: string, indent: number): string[] {
  if (!text) return [];
  return text.split("\n").map((line) => `${"\t".repeat(indent)}## ${line}`.trimEnd());
}

/** The index of the field's oneof, or undefined (descriptor.proto is proto2: an unset index reads as 0). */
function oneofOf(field: FieldDescriptorProto): number | undefined {
  if (field.proto3Optional || !isFieldSet(field, FieldDescriptorProtoSchema.field.oneofIndex)) return undefined;
  return field.oneofIndex;
}

/** How a field travels: its wire type, and the GDScript type and default of its value. */
interface Kind {
  wire: 0 | 1 | 2 | 5;
  gd: string;
  zero: string;
  /** GDScript that writes `v` (a value of the field) to `w` (a Writer), after the tag. */
  write: (v: string) => string;
  /** GDScript that reads one value from `r` (a Reader). */
  read: string;
  /** A scalar that may be packed. */
  packable: boolean;
}

function kindOf(field: FieldDescriptorProto, schema: Schema): Kind {
  const varint = (gd: string, zero: string, write: (v: string) => string, read: string): Kind => ({ wire: 0, gd, zero, write, read, packable: true });
  switch (field.type) {
    case Type.DOUBLE:
      return { wire: 1, gd: "float", zero: "0.0", write: (v) => `w.double(${v})`, read: "r.double()", packable: true };
    case Type.FLOAT:
      return { wire: 5, gd: "float", zero: "0.0", write: (v) => `w.float32(${v})`, read: "r.float32()", packable: true };
    case Type.INT64:
    case Type.UINT64:
      return varint("int", "0", (v) => `w.varint(${v})`, "r.varint()");
    case Type.INT32:
    case Type.ENUM:
      return varint("int", "0", (v) => `w.varint(${v})`, "Wire.int32(r.varint())");
    case Type.UINT32:
      return varint("int", "0", (v) => `w.varint(${v} & 0xFFFFFFFF)`, "r.varint() & 0xFFFFFFFF");
    case Type.SINT32:
    case Type.SINT64:
      return varint("int", "0", (v) => `w.varint(Wire.zigzag(${v}))`, field.type === Type.SINT32 ? "Wire.int32(Wire.unzigzag(r.varint()))" : "Wire.unzigzag(r.varint())");
    case Type.BOOL:
      return varint("bool", "false", (v) => `w.varint(1 if ${v} else 0)`, "r.varint() != 0");
    case Type.FIXED64:
    case Type.SFIXED64:
      return { wire: 1, gd: "int", zero: "0", write: (v) => `w.fixed64(${v})`, read: "r.fixed64()", packable: true };
    case Type.FIXED32:
      return { wire: 5, gd: "int", zero: "0", write: (v) => `w.fixed32(${v})`, read: "r.fixed32() & 0xFFFFFFFF", packable: true };
    case Type.SFIXED32:
      return { wire: 5, gd: "int", zero: "0", write: (v) => `w.fixed32(${v})`, read: "Wire.int32(r.fixed32())", packable: true };
    case Type.STRING:
      return { wire: 2, gd: "String", zero: '""', write: (v) => `w.string(${v})`, read: "r.string()", packable: false };
    case Type.BYTES:
      return { wire: 2, gd: "PackedByteArray", zero: "PackedByteArray()", write: (v) => `w.bytes(${v})`, read: "r.bytes()", packable: false };
    case Type.MESSAGE: {
      const name = schema.className(field.typeName);
      return { wire: 2, gd: name, zero: "null", write: (v) => `w.message(${v})`, read: `${name}.read(r.sub())`, packable: false };
    }
    default:
      throw new Error(`field ${field.name}: type ${field.type} (groups) is not supported`);
  }
}

/** The default check proto3 makes before writing a singular scalar. */
function isSet(kind: Kind, v: string): string {
  if (kind.gd === "String" || kind.gd === "PackedByteArray") return `not ${v}.is_empty()`;
  if (kind.gd === "bool") return v;
  if (kind.gd === "float") return `${v} != 0.0`;
  if (kind.zero === "null") return `${v} != null`;
  return `${v} != 0`;
}

const tag = (field: FieldDescriptorProto, wire: number) => (field.number << 3) | wire;

/** A Dictionary value of the field's (for to_dict), and back (for from_dict). */
function toDictValue(kind: Kind, v: string): string {
  return kind.zero === "null" ? `${v}.to_dict()` : v;
}

function fromDictValue(kind: Kind, v: string): string {
  if (kind.zero === "null") return `${kind.gd}.from_dict(${v})`;
  if (kind.gd === "int") return `int(${v})`;
  if (kind.gd === "float") return `float(${v})`;
  if (kind.gd === "bool") return `bool(${v})`;
  if (kind.gd === "String") return `str(${v})`;
  return `PackedByteArray(${v})`;
}

/** What the generator knows of a .proto: its messages by full name, nested ones flattened. */
interface Schema {
  /** The .proto's file name, for doc comments and errors. */
  file: string;
  /** Every message by its full name (".pkg.Outer.Inner"), map entries included. */
  messages: Map<string, DescriptorProto>;
  /** The GDScript class of a message or enum by its full name: nested names joined by "_" (Outer_Inner). */
  className(typeName: string): string;
  /** The classes to write (map entries are not), in the order the file declares them, each nested after its parent. */
  classes: MessageInfo[];
  enums: { name: string; values: { name: string; number: number }[]; doc: string }[];
}

/** GDScript's keywords and what a generated class already has: a message, field or enum value may not take them. */
const RESERVED = new Set([
  ...["if", "elif", "else", "for", "while", "match", "when", "break", "continue", "pass", "return", "class", "class_name", "extends", "is", "in", "as", "self", "super", "signal", "func", "static", "const", "enum", "var", "breakpoint", "preload", "await", "yield", "assert", "void", "not", "and", "or", "true", "false", "null", "PI", "TAU", "INF", "NAN"],
  // Object's and RefCounted's members a field would shadow, and the generated class's own.
  ...["script", "free", "notification", "set", "get", "call", "connect", "disconnect", "emit_signal", "to_string", "reference", "unreference", "init_ref", "write", "read", "to_bytes", "from_bytes", "to_dict", "from_dict", "new"],
]);

/** Method names a oneof member or an optional field generates, which Object already has (get_class, set_meta...). */
const OBJECT_METHODS = new Set(["get_class", "set_script", "get_script", "set_meta", "get_meta", "has_meta", "has_method", "has_signal", "set_block_signals", "get_signal_list", "get_method_list", "get_property_list", "set_deferred", "get_instance_id", "has_user_signal", "get_indexed", "set_indexed", "clear_meta"]);

function schemaOf(file: FileDescriptorProto): Schema {
  const comments = commentsOf(file);
  const prefix = file.package ? `.${file.package}.` : ".";
  const messages = new Map<string, DescriptorProto>();
  const classes: MessageInfo[] = [];
  const enums: Schema["enums"] = [];
  const className = (typeName: string) => (typeName.startsWith(prefix) ? typeName.slice(prefix.length) : typeName.replace(/^\./, "")).replace(/\./g, "_");
  const refuse = (what: string) => {
    throw new ProtocolError(`${file.name}: ${what} clashes with a GDScript keyword or a member every generated class has; rename it`);
  };
  const addEnum = (values: { name: string; number: number }[], name: string, doc: string) => {
    if (RESERVED.has(name)) refuse(`the enum ${name}`);
    enums.push({ name, values, doc });
  };
  const walk = (message: DescriptorProto, fullName: string, path: number[]) => {
    messages.set(fullName, message);
    message.nestedType.forEach((nested, j) => walk(nested, `${fullName}.${nested.name}`, [...path, 3, j]));
    message.enumType.forEach((e, j) => addEnum(e.value, className(`${fullName}.${e.name}`), comments.get([...path, 4, j].join(",")) ?? ""));
  };
  file.messageType.forEach((message, i) => walk(message, `${prefix}${message.name}`, [4, i]));
  file.enumType.forEach((e, i) => addEnum(e.value, e.name, comments.get(`5,${i}`) ?? ""));
  const collect = (message: DescriptorProto, fullName: string, path: number[]) => {
    if (message.options?.mapEntry) return;
    const name = className(fullName);
    if (RESERVED.has(name)) refuse(`the message ${name}`);
    for (const field of message.field) {
      const where = `the field ${field.name} of ${name}`;
      // A oneof's member is no variable of its own: only its accessors are named after it.
      const member = !field.proto3Optional && oneofOf(field) !== undefined;
      if (!member && RESERVED.has(field.name)) refuse(where);
      const accessors = [`has_${field.name}`, `get_${field.name}`, `set_${field.name}`, `clear_${field.name}`, `new_${field.name}`];
      if (accessors.some((a) => OBJECT_METHODS.has(a))) refuse(`${where} (its accessors)`);
    }
    classes.push({
      name,
      message,
      doc: comments.get(path.join(",")) ?? "",
      fieldDocs: message.field.map((_, k) => comments.get([...path, 2, k].join(",")) ?? ""),
    });
    message.nestedType.forEach((nested, j) => collect(nested, `${fullName}.${nested.name}`, [...path, 3, j]));
  };
  file.messageType.forEach((message, i) => collect(message, `${prefix}${message.name}`, [4, i]));
  return { file: file.name, messages, className, classes, enums };
}

/** A map field's entry: its key and value fields (a map<K, V> is a repeated message of these). */
function mapEntryOf(field: FieldDescriptorProto, schema: Schema): { key: FieldDescriptorProto; value: FieldDescriptorProto } | undefined {
  if (field.type !== Type.MESSAGE || field.label !== Label.REPEATED) return undefined;
  const entry = schema.messages.get(field.typeName);
  if (!entry?.options?.mapEntry) return undefined;
  return { key: entry.field.find((f) => f.number === 1)!, value: entry.field.find((f) => f.number === 2)! };
}

function messageClass({ name, message, doc, fieldDocs }: MessageInfo, schema: Schema): string {
  const fields = message.field;
  const oneofOfField = (f: FieldDescriptorProto) => (f.proto3Optional ? undefined : oneofOf(f));
  const oneofs = message.oneofDecl.map((o) => o.name);
  const inOneof = (f: FieldDescriptorProto) => oneofOfField(f) !== undefined;
  const repeated = (f: FieldDescriptorProto) => f.label === Label.REPEATED;
  const kind = (f: FieldDescriptorProto) => kindOf(f, schema);
  const out: string[] = [];
  out.push(...(doc ? docLines(doc, 0) : [`## The message ${name} of ${schema.file}.`]));
  out.push(`class ${name} extends RefCounted:`);
  for (const [j, f] of fields.entries()) {
    if (inOneof(f)) continue;
    const k = kind(f);
    out.push(...docLines(fieldDocs[j] ?? "", 1));
    const entry = mapEntryOf(f, schema);
    if (entry) out.push(`\tvar ${f.name}: Dictionary[${kindOf(entry.key, schema).gd}, ${kindOf(entry.value, schema).gd}] = {}`);
    else if (repeated(f)) out.push(`\tvar ${f.name}: Array[${k.gd}] = []`);
    else if (f.proto3Optional) {
      // Presence: set (even to its default) or not; has_X() tells, clear_X() unsets.
      out.push(`\tvar ${f.name}: ${k.gd} = ${k.zero}:`);
      out.push("\t\tset(value):");
      out.push(`\t\t\t${f.name} = value`);
      out.push(`\t\t\t_has_${f.name} = true`);
      out.push(`\tvar _has_${f.name} := false`);
      out.push("");
      out.push(`\t## Whether ${f.name} is set (proto3 optional: set to its default counts).`);
      out.push(`\tfunc has_${f.name}() -> bool:`);
      out.push(`\t\treturn _has_${f.name}`);
      out.push("");
      out.push(`\t## Unsets ${f.name}.`);
      out.push(`\tfunc clear_${f.name}() -> void:`);
      out.push(`\t\t${f.name} = ${k.zero}`);
      out.push(`\t\t_has_${f.name} = false`);
      out.push("");
    } else out.push(`\tvar ${f.name}: ${k.gd} = ${k.zero}`);
  }
  for (const [i, oneof] of oneofs.entries()) {
    const members = fields.filter((f) => oneofOfField(f) === i);
    if (members.length === 0) continue; // a proto3 optional's own oneof
    out.push(`\t## Which field of the oneof ${oneof} is set (its name), or &"" for none.`);
    out.push(`\tvar ${oneof}_case: StringName = &""`);
    out.push(`\t## The value of the oneof ${oneof}: a message of the case's type, or null.`);
    out.push(`\tvar ${oneof}: Variant = null`);
    for (const f of members) {
      const k = kind(f);
      out.push("");
      out.push(`\t## Whether the oneof ${oneof} holds ${f.name}.`);
      out.push(`\tfunc has_${f.name}() -> bool:`);
      out.push(`\t\treturn ${oneof}_case == &"${f.name}"`);
      out.push("");
      out.push(`\t## ${f.name}, or ${k.zero} when the oneof holds another field.`);
      out.push(`\tfunc get_${f.name}() -> ${k.gd}:`);
      out.push(`\t\treturn ${oneof} if ${oneof}_case == &"${f.name}" else ${k.zero}`);
      out.push("");
      out.push(`\t## Sets the oneof ${oneof} to ${f.name}.`);
      out.push(`\tfunc set_${f.name}(value: ${k.gd}) -> void:`);
      out.push(`\t\t${oneof}_case = &"${f.name}"`);
      out.push(`\t\t${oneof} = value`);
      if (k.zero === "null") {
        out.push("");
        out.push(`\t## Sets the oneof ${oneof} to a new, empty ${k.gd} and returns it.`);
        out.push(`\tfunc new_${f.name}() -> ${k.gd}:`);
        out.push(`\t\tvar value := ${k.gd}.new()`);
        out.push(`\t\tset_${f.name}(value)`);
        out.push(`\t\treturn value`);
      }
    }
  }

  // write: fields in declaration order, as ts-proto and protobuf-es write them.
  out.push("");
  out.push("\t## Appends this message's fields to the writer.");
  out.push("\tfunc write(w: Wire.Writer) -> void:");
  const body: string[] = [];
  for (const f of fields) {
    const k = kind(f);
    const entry = mapEntryOf(f, schema);
    if (inOneof(f)) {
      const oneof = oneofs[oneofOfField(f)!]!;
      body.push(`\t\tif ${oneof}_case == &"${f.name}":`);
      body.push(`\t\t\tw.tag(${tag(f, k.wire)})`);
      body.push(`\t\t\t${k.write(oneof)}`);
    } else if (entry) {
      // Each entry a message of its key (1) and value (2), both written whatever they are.
      const key = kindOf(entry.key, schema);
      const value = kindOf(entry.value, schema);
      body.push(`\t\tfor key in ${f.name}:`);
      body.push(`\t\t\tvar e := Wire.Writer.new()`);
      body.push(`\t\t\te.tag(${tag(entry.key, key.wire)})`);
      body.push(`\t\t\t${key.write("key").replace(/^w\./, "e.")}`);
      body.push(`\t\t\te.tag(${tag(entry.value, value.wire)})`);
      body.push(`\t\t\t${value.write(`${f.name}[key]`).replace(/^w\./, "e.")}`);
      body.push(`\t\t\tw.tag(${tag(f, 2)})`);
      body.push(`\t\t\tw.bytes(e.buffer)`);
    } else if (repeated(f) && k.packable) {
      body.push(`\t\tif not ${f.name}.is_empty():`);
      body.push(`\t\t\tw.tag(${tag(f, 2)})`);
      body.push(`\t\t\tvar packed := Wire.Writer.new()`);
      body.push(`\t\t\tfor v in ${f.name}:`);
      body.push(`\t\t\t\t${k.write("v").replace(/^w\./, "packed.")}`);
      body.push(`\t\t\tw.bytes(packed.buffer)`);
    } else if (repeated(f)) {
      body.push(`\t\tfor v in ${f.name}:`);
      body.push(`\t\t\tw.tag(${tag(f, k.wire)})`);
      body.push(`\t\t\t${k.write("v")}`);
    } else {
      body.push(`\t\tif ${f.proto3Optional ? `_has_${f.name}` : isSet(k, f.name)}:`);
      body.push(`\t\t\tw.tag(${tag(f, k.wire)})`);
      body.push(`\t\t\t${k.write(f.name)}`);
    }
  }
  out.push(...(body.length > 0 ? body : ["\t\tpass"]));

  out.push("");
  out.push("\t## The message as protobuf bytes.");
  out.push("\tfunc to_bytes() -> PackedByteArray:");
  out.push("\t\tvar w := Wire.Writer.new()");
  out.push("\t\twrite(w)");
  out.push("\t\treturn w.buffer");

  // read: any order, packed or not, unknown fields skipped.
  out.push("");
  out.push(`\t## Reads a ${name} from the reader (to its end); null when the bytes are not one.`);
  out.push(`\tstatic func read(r: Wire.Reader) -> ${name}:`);
  out.push(`\t\tvar m := ${name}.new()`);
  out.push("\t\twhile r.ok and not r.at_end():");
  out.push("\t\t\tvar key := r.varint()");
  out.push("\t\t\tmatch key >> 3:");
  for (const f of fields) {
    const k = kind(f);
    const entry = mapEntryOf(f, schema);
    out.push(`\t\t\t\t${f.number}:`);
    if (inOneof(f)) {
      out.push(`\t\t\t\t\tif key & 7 != ${k.wire}: r.skip(key & 7)`);
      out.push(`\t\t\t\t\telse: m.set_${f.name}(${k.read})`);
    } else if (entry) {
      const key = kindOf(entry.key, schema);
      const value = kindOf(entry.value, schema);
      out.push(`\t\t\t\t\tif key & 7 != 2:`);
      out.push(`\t\t\t\t\t\tr.skip(key & 7)`);
      out.push(`\t\t\t\t\t\tcontinue`);
      out.push(`\t\t\t\t\tvar e := r.sub()`);
      out.push(`\t\t\t\t\tvar k: ${key.gd} = ${key.zero}`);
      out.push(`\t\t\t\t\tvar v: ${value.gd} = ${value.zero}`);
      out.push(`\t\t\t\t\twhile e.ok and not e.at_end():`);
      out.push(`\t\t\t\t\t\tvar ek := e.varint()`);
      out.push(`\t\t\t\t\t\tif ek == ${tag(entry.key, key.wire)}: k = ${key.read.replace(/\br\./g, "e.")}`);
      out.push(`\t\t\t\t\t\telif ek == ${tag(entry.value, value.wire)}: v = ${value.read.replace(/\br\./g, "e.")}`);
      out.push(`\t\t\t\t\t\telse: e.skip(ek & 7)`);
      out.push(`\t\t\t\t\tr.ok = r.ok and e.ok`);
      if (value.zero === "null") out.push(`\t\t\t\t\tm.${f.name}[k] = v if v != null else ${value.gd}.new()`);
      else out.push(`\t\t\t\t\tm.${f.name}[k] = v`);
    } else if (repeated(f) && k.packable) {
      out.push(`\t\t\t\t\tif key & 7 == 2:`);
      out.push(`\t\t\t\t\t\tvar p := r.sub()`);
      out.push(`\t\t\t\t\t\twhile p.ok and not p.at_end(): m.${f.name}.append(${k.read.replace(/\br\./g, "p.")})`);
      out.push(`\t\t\t\t\t\tr.ok = r.ok and p.ok`);
      out.push(`\t\t\t\t\telif key & 7 == ${k.wire}: m.${f.name}.append(${k.read})`);
      out.push(`\t\t\t\t\telse: r.skip(key & 7)`);
    } else if (repeated(f)) {
      out.push(`\t\t\t\t\tif key & 7 != ${k.wire}: r.skip(key & 7)`);
      out.push(`\t\t\t\t\telse: m.${f.name}.append(${k.read})`);
    } else {
      out.push(`\t\t\t\t\tif key & 7 != ${k.wire}: r.skip(key & 7)`);
      out.push(`\t\t\t\t\telse: m.${f.name} = ${k.read}`);
    }
  }
  out.push("\t\t\t\t_:");
  out.push("\t\t\t\t\tr.skip(key & 7)");
  out.push("\t\treturn m if r.ok else null");

  out.push("");
  out.push(`\t## A ${name} from protobuf bytes; null when they are not one.`);
  out.push(`\tstatic func from_bytes(bytes: PackedByteArray) -> ${name}:`);
  out.push(`\t\treturn read(Wire.Reader.new(bytes, 0, bytes.size()))`);

  // Dictionaries, keyed by the proto's field names: for logs, JSON and tests.
  out.push("");
  out.push("\t## The fields as a Dictionary keyed by their proto names (defaults left out, like the wire).");
  out.push("\tfunc to_dict() -> Dictionary:");
  out.push("\t\tvar d := {}");
  for (const f of fields) {
    const k = kind(f);
    const entry = mapEntryOf(f, schema);
    if (inOneof(f)) {
      const oneof = oneofs[oneofOfField(f)!]!;
      out.push(`\t\tif ${oneof}_case == &"${f.name}": d["${f.name}"] = ${toDictValue(k, oneof)}`);
    } else if (entry) {
      const value = kindOf(entry.value, schema);
      out.push(`\t\tif not ${f.name}.is_empty():`);
      out.push(`\t\t\tvar map := {}`);
      out.push(`\t\t\tfor key in ${f.name}: map[key] = ${toDictValue(value, `${f.name}[key]`)}`);
      out.push(`\t\t\td["${f.name}"] = map`);
    } else if (repeated(f)) {
      out.push(`\t\tif not ${f.name}.is_empty(): d["${f.name}"] = ${f.name}.map(func(v): return ${toDictValue(k, "v")})`);
    } else {
      out.push(`\t\tif ${f.proto3Optional ? `_has_${f.name}` : isSet(k, f.name)}: d["${f.name}"] = ${toDictValue(k, f.name)}`);
    }
  }
  out.push("\t\treturn d");
  out.push("");
  out.push(`\t## A ${name} from a Dictionary as to_dict makes it.`);
  out.push(`\tstatic func from_dict(d: Dictionary) -> ${name}:`);
  out.push(`\t\tvar m := ${name}.new()`);
  for (const f of fields) {
    const k = kind(f);
    const entry = mapEntryOf(f, schema);
    if (inOneof(f)) out.push(`\t\tif d.has("${f.name}"): m.set_${f.name}(${fromDictValue(k, `d["${f.name}"]`)})`);
    else if (entry) {
      const key = kindOf(entry.key, schema);
      const value = kindOf(entry.value, schema);
      out.push(`\t\tvar ${f.name}_map: Dictionary = d.get("${f.name}", {})`);
      out.push(`\t\tfor key in ${f.name}_map: m.${f.name}[${fromDictValue(key, "key")}] = ${fromDictValue(value, `${f.name}_map[key]`)}`);
    } else if (repeated(f)) out.push(`\t\tfor v in d.get("${f.name}", []): m.${f.name}.append(${fromDictValue(k, "v")})`);
    else out.push(`\t\tif d.has("${f.name}"): m.${f.name} = ${fromDictValue(k, `d["${f.name}"]`)}`);
  }
  out.push("\t\treturn m");
  return out.join("\n");
}

/** The wire format's pieces, shared by every message class. */
const WIRE = `## Protobuf's wire format, as the message classes use it.
class Wire:
	## Appends a protobuf encoding to \`buffer\`.
	class Writer extends RefCounted:
		var buffer := PackedByteArray()

		func varint(value: int) -> void:
			# GDScript ints are 64-bit and signed: shift logically, so that a negative int32 takes its 10 bytes.
			while true:
				var low := value & 0x7F
				value = (value >> 7) & 0x01FFFFFFFFFFFFFF
				if value == 0:
					buffer.append(low)
					return
				buffer.append(low | 0x80)

		func tag(key: int) -> void:
			varint(key)

		func double(value: float) -> void:
			var at := buffer.size()
			buffer.resize(at + 8)
			buffer.encode_double(at, value)

		func float32(value: float) -> void:
			var at := buffer.size()
			buffer.resize(at + 4)
			buffer.encode_float(at, value)

		func fixed64(value: int) -> void:
			var at := buffer.size()
			buffer.resize(at + 8)
			buffer.encode_s64(at, value)

		func fixed32(value: int) -> void:
			var at := buffer.size()
			buffer.resize(at + 4)
			buffer.encode_u32(at, value & 0xFFFFFFFF)

		func bytes(value: PackedByteArray) -> void:
			varint(value.size())
			buffer.append_array(value)

		func string(value: String) -> void:
			bytes(value.to_utf8_buffer())

		func message(value: Variant) -> void:
			var inner := Writer.new()
			value.write(inner)
			bytes(inner.buffer)

	## Reads a protobuf encoding from \`data\`, between \`pos\` and \`end\`; \`ok\` turns false on bytes that are not one.
	class Reader extends RefCounted:
		var data: PackedByteArray
		var pos: int
		var end: int
		var ok := true

		func _init(bytes: PackedByteArray, from: int, to: int) -> void:
			data = bytes
			pos = from
			end = to

		func at_end() -> bool:
			return pos >= end

		func varint() -> int:
			var result := 0
			var shift := 0
			while shift < 70:
				if pos >= end:
					ok = false
					return 0
				var b := data[pos]
				pos += 1
				if shift < 64:
					result |= (b & 0x7F) << shift
				if b < 0x80:
					return result
				shift += 7
			ok = false
			return 0

		func _take(count: int) -> int:
			if count < 0 or pos + count > end:
				ok = false
				pos = end
				return -1
			var at := pos
			pos += count
			return at

		func double() -> float:
			var at := _take(8)
			return data.decode_double(at) if at >= 0 else 0.0

		func float32() -> float:
			var at := _take(4)
			return data.decode_float(at) if at >= 0 else 0.0

		func fixed64() -> int:
			var at := _take(8)
			return data.decode_s64(at) if at >= 0 else 0

		func fixed32() -> int:
			var at := _take(4)
			return data.decode_u32(at) if at >= 0 else 0

		func bytes() -> PackedByteArray:
			var length := varint()
			var at := _take(length)
			return data.slice(at, at + length) if at >= 0 else PackedByteArray()

		func string() -> String:
			return bytes().get_string_from_utf8()

		## The next length-delimited field, to read as a message of its own.
		func sub() -> Reader:
			var length := varint()
			var at := _take(length)
			var inner := Reader.new(data, at if at >= 0 else end, at + length if at >= 0 else end)
			inner.ok = at >= 0
			return inner

		## Skips a field of wire type \`wire\` (an unknown field, or one of an unexpected type).
		func skip(wire: int) -> void:
			match wire:
				0:
					varint()
				1:
					_take(8)
				2:
					_take(varint())
				5:
					_take(4)
				_:
					ok = false

	static func int32(value: int) -> int:
		value = value & 0xFFFFFFFF
		return value - 0x100000000 if value > 0x7FFFFFFF else value

	static func zigzag(value: int) -> int:
		return (value << 1) ^ (value >> 63)

	static func unzigzag(value: int) -> int:
		return ((value >> 1) & 0x7FFFFFFFFFFFFFFF) ^ -(value & 1)`;

/** mmo_messages.gd: the client's base, generated too: a signal and a send helper per message case, and the dispatch. */
export function generateMessages(version: string, protoHash: string): string {
  const cases = packetCases();
  const received = cases.filter((c) => c.direction !== "client");
  const sent = cases.filter((c) => c.direction !== "server");
  return [
    "# Generated by mmo-server (./mmo-server godot PATH) from its packets.proto: do not edit; run it again.",
    `# mmo-server ${version}, packets.proto ${protoHash}`,
    "## The message cases of packets.proto: a signal for each the server sends, a send helper for each the",
    "## client sends (as packets.proto says of each); MmoClient (mmo_client.gd) extends it.",
    "extends Node",
    "",
    'const Packets := preload("packets.gd")',
    "",
    "## Every packet the server sends, whatever its case.",
    "signal packet_received(packet: Packets.Packet)",
    ...received.flatMap((c) => [...docLines(`${c.name} (${c.number}), from sender_id (0: the server): ${c.doc}`, 0), `signal ${c.name}_received(sender_id: int, message: Packets.${c.type})`]),
    "",
    "## Sends a packet (its sender_id is left 0: the server stamps it). Overridden by MmoClient.",
    "func send_packet(_packet: Packets.Packet) -> Error:",
    "	return ERR_UNCONFIGURED",
    "",
    ...sent.flatMap((c) => [
      ...docLines(`Sends ${c.name} (${c.number}): ${c.doc}`, 0),
      `func send_${c.name}(message: Packets.${c.type} = Packets.${c.type}.new()) -> Error:`,
      "	var packet := Packets.Packet.new()",
      `	packet.set_${c.name}(message)`,
      "	return send_packet(packet)",
      "",
    ]),
    "func _dispatch(packet: Packets.Packet) -> void:",
    "	packet_received.emit(packet)",
    "	match packet.msg_case:",
    ...received.flatMap((c) => [`		&"${c.name}":`, `			${c.name}_received.emit(packet.sender_id, packet.msg)`]),
    "",
  ].join("\n");
}

/** packets.gd: every message of packets.proto as a class inside MmoPackets. */
export function generateCodecs(version: string, protoHash: string, file: FileDescriptorProto = packetsFile(), className = "MmoPackets"): string {
  const schema = schemaOf(file);
  const enums = schema.enums.flatMap((e) => [...docLines(e.doc, 0), `enum ${e.name} { ${e.values.map((v) => `${v.name} = ${v.number}`).join(", ")} }`, ""]);
  return [
    `# Generated by mmo-server (./mmo-server godot PATH) from its ${file.name}: do not edit; run it again.`,
    `# mmo-server ${version}, ${file.name} ${protoHash}`,
    `## The protocol's messages: one class per message of ${file.name}, each with its fields as`,
    "## typed variables, to_bytes() / from_bytes(), and to_dict() / from_dict().",
    `class_name ${className}`,
    "extends RefCounted",
    "",
    `const SERVER_VERSION := "${version}"`,
    `const PROTO_HASH := "${protoHash}"`,
    "",
    ...enums,
    WIRE,
    "",
    ...schema.classes.flatMap((info) => [messageClass(info, schema), ""]),
  ].join("\n");
}
