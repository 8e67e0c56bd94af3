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
function inPossible(values: ReadonlySet<string>, possible: PossibleValues): Tri {
  if (possible.kind === 'unknown') return 'cannot-tell';
  let listed = 0;
  // Whichever side is shorter is walked: a few possible values against a long list, or the reverse.
  if (possible.listed !== undefined && possible.listed.length < values.size) {
    for (const value of possible.listed) if (values.has(value)) listed++;
  } else {
    for (const value of values) if (possible.has(value)) listed++;
  }
  if (listed === 0) return false;
  return listed >= possible.count ? true : 'cannot-tell';
}

function requirementOn(operator: SelectorRequirement['operator'], values: ReadonlySet<string>, possible: PossibleValues): Tri {
  switch (operator) {
    case 'Exists':
      return true;
    case 'DoesNotExist':
      return false;
    case 'In':
      return inPossible(values, possible);
    case 'NotIn': {
      const isIn = inPossible(values, possible);
      return isIn === 'cannot-tell' ? isIn : !isIn;
    }
  }
}

function describe(key: string, possible: PossibleValues): string {
  if (possible.kind === 'unknown') return `its controller sets ${key} to ${possible.why}, which the audit cannot know`;
  return `its controller sets ${key} to one of ${possible.count} values (${JSON.stringify(possible.sample.slice(0, 80))}, …), and the selector lists only some of them`;
}

export type SelectorDecider = (labels: Readonly<Record<string, string>>, added: readonly ControllerLabel[]) => SelectorDecision;

/**
 * Compiled once per selector (each requirement's values into a set); a decision then costs one
 * lookup per requirement on a template label and one pass over the values of a requirement on a
 * label the controller adds.
 */
export function compileSelectorDecider(selector: LabelSelector): SelectorDecider {
  const requirements: { readonly requirement: SelectorRequirement; readonly values: ReadonlySet<string> }[] = [
    ...Object.entries(selector.matchLabels).map(([key, value]) => ({ requirement: { key, operator: 'In' as const, values: [value] }, values: new Set([value]) })),
    ...selector.matchExpressions.map((requirement) => ({ requirement, values: new Set(requirement.values) })),
  ];
  return (labels, added) => {
    const addedByKey = new Map<string, PossibleValues>();
    for (const label of added) addedByKey.set(label.key, label.values);
    let undecided: { key: string; why: string } | undefined;
    for (const { requirement, values } of requirements) {
      const possible = addedByKey.get(requirement.key);
      if (possible !== undefined) {
        const result = requirementOn(requirement.operator, values, possible);
        if (result === false) return { sent: false };
        if (result === 'cannot-tell') undecided ??= { key: requirement.key, why: describe(requirement.key, possible) };
        continue;
      }
      const present = Object.hasOwn(labels, requirement.key);
      const holds =
        requirement.operator === 'Exists' ? present
        : requirement.operator === 'DoesNotExist' ? !present
        : requirement.operator === 'In' ? present && values.has(labels[requirement.key] ?? '')
        : !present || !values.has(labels[requirement.key] ?? '');
      if (!holds) return { sent: false };
    }
    return undecided === undefined ? { sent: true } : { sent: 'cannot-tell', ...undecided };
  };
}
