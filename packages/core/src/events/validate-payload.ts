import type { StandardSchemaV1 } from './standard-schema.js';

/** Outcome of {@link validatePayload}. */
export type PayloadValidationResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: readonly string[] };

/**
 * Run a Standard Schema against a value. Returns the (possibly transformed) value or every
 * issue as `path: message` strings. A schema that throws is reported as one issue, never
 * rethrown. Without a schema the value passes unchanged.
 */
export async function validatePayload<T>(
  schema: StandardSchemaV1<unknown, T> | undefined,
  value: unknown,
): Promise<PayloadValidationResult<T>> {
  if (schema === undefined) return { ok: true, value: value as T };
  let result: StandardSchemaV1.Result<T>;
  try {
    result = await schema['~standard'].validate(value);
  } catch (error) {
    return { ok: false, issues: [`schema threw: ${error instanceof Error ? error.message : String(error)}`] };
  }
  if (result.issues === undefined) return { ok: true, value: result.value };
  return { ok: false, issues: result.issues.map(formatIssue) };
}

/** Summarise issues for an error message (first few, then a count). Pure. */
export function summarizeIssues(issues: readonly string[], max = 5): string {
  const shown = issues.slice(0, max).join('; ');
  return issues.length > max ? `${shown}; and ${String(issues.length - max)} more` : shown;
}

function formatIssue(issue: StandardSchemaV1.Issue): string {
  const path = (issue.path ?? [])
    .map((segment) => (typeof segment === 'object' ? String(segment.key) : String(segment)))
    .join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}
