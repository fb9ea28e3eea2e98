import { createContext, useCallback, useContext, useMemo, type ReactNode } from 'react';
import { fieldLabel, type Field } from '../../shared/types.ts';

const FieldNames = createContext<ReadonlyMap<string, string>>(new Map());

/** Gives every screen below what the project calls its fields (their display names). */
export function FieldNamesProvider({ fields, children }: { fields: readonly Field[]; children: ReactNode }) {
  const names = useMemo(() => new Map(fields.map((f) => [f.name, fieldLabel(f)])), [fields]);
  return <FieldNames.Provider value={names}>{children}</FieldNames.Provider>;
}

/** What the screens call a field by its stored name (the name itself when it has no display name). */
export function useFieldName(): (name: string) => string {
  const names = useContext(FieldNames);
  return useCallback((name: string) => names.get(name) ?? name, [names]);
}
