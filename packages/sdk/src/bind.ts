/**
 * Binds the named methods of `instance` to it, as own properties. The SDK's clients were plain
 * objects of closures before they were classes, so `const { send } = client` or
 * `app.get('/health', sync.stats)` must keep working.
 */
export function bindMethods<T extends object>(instance: T, names: readonly (keyof T & string)[]): void {
  const target = instance as Record<string, unknown>;
  for (const name of names) {
    const method = instance[name];
    if (typeof method === 'function') target[name] = method.bind(instance);
  }
}
