// The one check that a value read from JSON (a config file, a checkpoint, a result line) is a
// plain object whose fields can be looked up. Not a schema validator: callers check the fields.

/** True for `{...}`: not null, not an array, not a primitive. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
