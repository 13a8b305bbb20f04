import type { z } from 'zod';

// For the tests of the API's response schemas (services/api/src/domain/answers.ts): which fields of
// a sample answer the schema does not type. Each field in turn is set to a value of no JSON type
// (a bigint); a schema that still takes the answer does not type that field. Fields named in `open`
// (free-form records: metadata, contexts, …) are checked themselves but not walked into.

/** Every path to a field of the value, into nested objects and the first item of lists, not into open fields. */
export function fieldPaths(value: unknown, open: ReadonlySet<string>, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.length > 0 ? [[...prefix, 0], ...fieldPaths(value[0], open, [...prefix, 0]).slice(1)] : [];
  if (value === null || typeof value !== 'object') return [prefix];
  const own = Object.entries(value).flatMap(([field, inner]) => (open.has(field) ? [[...prefix, field]] : fieldPaths(inner, open, [...prefix, field])));
  return [prefix, ...own];
}

/** The value with the field at `path` set to a bigint. */
export function withUntyped(value: unknown, path: readonly (string | number)[]): unknown {
  if (path.length === 0) return 1n;
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  copy[head!] = withUntyped(copy[head!], rest);
  return copy;
}

/** The fields of `sample` that `schema` takes whatever their value, as dotted paths. */
export function untypedFields(schema: z.ZodType, sample: unknown, open: ReadonlySet<string>, skip: (path: (string | number)[]) => boolean = () => false): string[] {
  return fieldPaths(sample, open)
    .filter((path) => path.length > 0 && !skip(path) && schema.safeParse(withUntyped(sample, path)).success)
    .map((path) => path.join('.'));
}
