// A LabelSelector decided against a Pod whose labels are partly known: its template's labels,
// plus the labels its controller adds (controller-labels.ts), some with a value the audit cannot
// know. Three answers: sent, not sent, or cannot tell, the last only when the answer really
// depends on an unknown value (an In/NotIn on it, and no other requirement already fails).
// Exists/DoesNotExist never need the value. One pass over the requirements, each costing its
// values once: linear in the selector, whatever the labels hold.
import type { LabelSelector, SelectorRequirement } from '../engine/namespace-matcher.js';
import type { ControllerLabel, PossibleValues } from './controller-labels.js';

export type SelectorDecision =
  | { readonly sent: true }
  | { readonly sent: false }
  /** The requirement on `key` holds for some values the label may have and not for others. */
  | { readonly sent: 'cannot-tell'; readonly key: string; readonly why: string };

type Tri = true | false | 'cannot-tell';

/** In (or, negated, NotIn) on a label the controller sets: true only when every possible value is listed. */
function inPossible(values: readonly string[], possible: PossibleValues): Tri {
  if (possible.kind === 'unknown') return 'cannot-tell';
  let listed = 0;
  for (const value of new Set(values)) if (possible.has(value)) listed++;
  if (listed === 0) return false;
  return listed >= possible.count ? true : 'cannot-tell';
}

function requirementOn(requirement: SelectorRequirement, possible: PossibleValues): Tri {
  switch (requirement.operator) {
    case 'Exists':
      return true;
    case 'DoesNotExist':
      return false;
    case 'In':
      return inPossible(requirement.values, possible);
    case 'NotIn': {
      const isIn = inPossible(requirement.values, possible);
      return isIn === 'cannot-tell' ? isIn : !isIn;
    }
  }
}

function describe(key: string, possible: PossibleValues): string {
  if (possible.kind === 'unknown') return `its controller sets ${key} to ${possible.why}, which the audit cannot know`;
  return `its controller sets ${key} to one of ${possible.count} values (${JSON.stringify(possible.sample.slice(0, 80))}, …), and the selector lists only some of them`;
}

export function decideSelector(selector: LabelSelector, labels: Readonly<Record<string, string>>, added: readonly ControllerLabel[]): SelectorDecision {
  const addedByKey = new Map<string, PossibleValues>();
  for (const label of added) addedByKey.set(label.key, label.values);
  const has = (key: string): boolean => Object.hasOwn(labels, key);
  let undecided: { key: string; why: string } | undefined;
  const settle = (key: string, result: Tri, possible: PossibleValues): boolean => {
    if (result === 'cannot-tell') undecided ??= { key, why: describe(key, possible) };
    return result !== false;
  };
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    const possible = addedByKey.get(key);
    if (possible === undefined ? !(has(key) && labels[key] === value) : !settle(key, inPossible([value], possible), possible)) return { sent: false };
  }
  for (const requirement of selector.matchExpressions) {
    const possible = addedByKey.get(requirement.key);
    if (possible !== undefined) {
      if (!settle(requirement.key, requirementOn(requirement, possible), possible)) return { sent: false };
      continue;
    }
    const present = has(requirement.key);
    const value = labels[requirement.key] ?? '';
    const holds =
      requirement.operator === 'Exists' ? present
      : requirement.operator === 'DoesNotExist' ? !present
      : requirement.operator === 'In' ? present && requirement.values.includes(value)
      : !present || !requirement.values.includes(value);
    if (!holds) return { sent: false };
  }
  return undefined === undecided ? { sent: true } : { sent: 'cannot-tell', ...undecided };
}
