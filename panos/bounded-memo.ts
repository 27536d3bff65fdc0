/**
 * `compute` remembered per key, for at most `max` keys: when full, everything is forgotten at once. For keys
 * that repeat (a fleet's few CA files or certificates, a log's few dozen command texts); the bound is kept
 * only so that many distinct ones cannot grow it. `compute` must not give undefined.
 */
export function boundedMemo<K, V>(max: number, compute: (key: K) => V): (key: K) => V {
  const remembered = new Map<K, V>();
  return (key) => {
    let value = remembered.get(key);
    if (value === undefined) {
      value = compute(key);
      if (remembered.size >= max) remembered.clear();
      remembered.set(key, value);
    }
    return value;
  };
}
