// An independent metav1.LabelSelector evaluation for the audit's property tests: written from the
// API's definition (matchLabels and matchExpressions ANDed; NotIn and DoesNotExist hold where the
// key is absent), sharing no code with src/.
export interface OracleSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; readonly values?: readonly string[] }[];
}

export function selectorMatches(selector: OracleSelector, labels: Readonly<Record<string, string>>): boolean {
  const has = (key: string) => Object.prototype.hasOwnProperty.call(labels, key);
  for (const key of Object.keys(selector.matchLabels ?? {})) {
    if (!has(key) || labels[key] !== selector.matchLabels![key]) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const ok =
      operator === 'Exists' ? has(key)
      : operator === 'DoesNotExist' ? !has(key)
      : operator === 'In' ? has(key) && values.includes(labels[key]!)
      : !(has(key) && values.includes(labels[key]!));
    if (!ok) return false;
  }
  return true;
}
