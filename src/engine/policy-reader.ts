// Typed reads from an untrusted plain value, each recording a PolicyError (path + fix) instead of
// throwing, so a policy with many mistakes reports all of them at once.
import { closestName } from './closest-name.js';
import type { PolicyError } from './model.js';
import { isJsonObject, type JsonObject } from '../foundation/json-object.js';



const MAX_SUGGESTIONS_PER_MAP = 50;
/** Errors listed for one policy; the rest are counted in a last "and N more errors" entry. */
export const MAX_LISTED_ERRORS = 50;
/** Characters of an offending value or key quoted in a message: enough to recognise a label key (up to 317). */
const MAX_QUOTED_CHARS = 120;

/**
 * A user's text quoted for a message: at most its first 120 characters, then how many were left
 * out. A YAML anchor can repeat one 900 KB scalar in a hundred places, so no message may carry it whole.
 */
export function quoteText(text: string): string {
  if (text.length <= MAX_QUOTED_CHARS) return JSON.stringify(text);
  return `${JSON.stringify(`${text.slice(0, MAX_QUOTED_CHARS)}…`)} (${text.length - MAX_QUOTED_CHARS} more characters)`;
}

/** A map key as one segment of an error path, cut like quoteText. */
function keySegment(key: string): string {
  return key.length <= MAX_QUOTED_CHARS ? key : `${key.slice(0, MAX_QUOTED_CHARS)}…(${key.length - MAX_QUOTED_CHARS} more characters)`;
}

/** "a string", "the number 3", "a list": how a wrong value is named in an error. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${quoteText(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${String(value)}`;
  if (isJsonObject(value)) return 'a map';
  return `a ${typeof value}`;
}

export function childPath(parent: string, key: string): string {
  return parent === '' ? keySegment(key) : `${parent}.${keySegment(key)}`;
}

/** At most MAX_LISTED_ERRORS of `errors`, then one entry counting the others. */
export function boundErrors(errors: readonly PolicyError[]): PolicyError[] {
  if (errors.length <= MAX_LISTED_ERRORS) return [...errors];
  return [...errors.slice(0, MAX_LISTED_ERRORS), omittedErrors(errors.length - MAX_LISTED_ERRORS)];
}

function omittedErrors(count: number): PolicyError {
  return { path: '(document)', message: `and ${count} more error${count === 1 ? '' : 's'}; fix the ones above first` };
}

export class PolicyErrorList {
  /** The first MAX_LISTED_ERRORS errors, then one entry counting the rest (updated as they come). */
  readonly errors: PolicyError[] = [];
  private omitted = 0;

  add(path: string, message: string): void {
    if (this.errors.length < MAX_LISTED_ERRORS) {
      this.errors.push({ path, message });
      return;
    }
    this.omitted++;
    if (this.omitted === 1) this.errors.push(omittedErrors(1));
    else this.errors[MAX_LISTED_ERRORS] = omittedErrors(this.omitted);
  }

  /** Every key not in `known` is an error, with the closest known name when one is close. */
  rejectUnknownFields(map: JsonObject, path: string, known: readonly string[]): void {
    let suggested = 0;
    for (const key of Object.keys(map)) {
      if (known.includes(key)) continue;
      // Suggestions cost an edit distance per known name; a map of thousands of junk keys gets plain errors.
      const suggestion = suggested++ < MAX_SUGGESTIONS_PER_MAP ? closestName(key, known) : null;
      const fix = suggestion !== null ? `did you mean ${JSON.stringify(suggestion)}?` : `known fields here: ${known.join(', ')}`;
      this.add(childPath(path, key), `unknown field; ${fix}`);
    }
  }

  /** A map, or null (recording an error) when the value is something else. */
  map(value: unknown, path: string, example: string): JsonObject | null {
    if (isJsonObject(value)) return value;
    this.add(path, `expected a map (${example}), got ${describeValue(value)}`);
    return null;
  }

  /** undefined when absent or null (YAML `key:` with nothing after it means "not set"). */
  optionalBoolean(map: JsonObject, key: string, path: string): boolean | undefined {
    const value = map[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'boolean') return value;
    this.add(childPath(path, key), `expected true or false, got ${describeValue(value)}`);
    return undefined;
  }

  optionalString(map: JsonObject, key: string, path: string, hint: string): string | undefined {
    const value = map[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    this.add(childPath(path, key), `expected a string (${hint}), got ${describeValue(value)}`);
    return undefined;
  }

  /** A string list; wrong elements are reported one by one and left out. */
  optionalStringList(map: JsonObject, key: string, path: string, hint: string): string[] | undefined {
    const value = map[key];
    if (value === undefined || value === null) return undefined;
    const fieldPath = childPath(path, key);
    if (!Array.isArray(value)) {
      this.add(fieldPath, `expected a list of strings (${hint}), got ${describeValue(value)}`);
      return undefined;
    }
    const strings: string[] = [];
    value.forEach((item: unknown, index) => {
      if (typeof item === 'string') strings.push(item);
      else this.add(`${fieldPath}[${index}]`, `expected a string (${hint}), got ${describeValue(item)}; quote it if it is meant as text`);
    });
    return strings;
  }
}
