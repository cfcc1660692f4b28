// GDScript and scene files imported as text (`with { type: "text" }`), embedded in the binary.
declare module "*.gd" {
  const text: string;
  export default text;
}
declare module "*.tscn" {
  const text: string;
  export default text;
}
