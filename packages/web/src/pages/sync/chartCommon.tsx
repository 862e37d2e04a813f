import type { Chart, ChartSpec } from '@syncdeck/core';
import { Badge } from '../../ui.tsx';

/* What the chart list, the chart form and a chart's view share. */

export function CacheBadge({ status }: { status: Chart['cacheStatus'] }) {
  return (
    <Badge tone={status === 'fresh' ? 'green' : 'amber'}>
      <span data-testid="cache-status">{status}</span>
    </Badge>
  );
}

export const fnLabels: Record<ChartSpec['metric']['fn'], string> = {
  count: 'Count',
  sum: 'Sum',
  avg: 'Average',
  min: 'Minimum',
  max: 'Maximum',
};

/** "Sum of amount in orders by day of created_at, 1 filter". */
export function describeSpec(spec: ChartSpec): string {
  const metric = spec.metric.column
    ? `${fnLabels[spec.metric.fn]} of ${spec.metric.column}`
    : `${fnLabels[spec.metric.fn]} of rows`;
  const group = spec.groupBy
    ? ` by ${spec.groupBy.bucket ? `${spec.groupBy.bucket} of ` : ''}${spec.groupBy.column}`
    : '';
  const filters = spec.filters.length
    ? `, ${spec.filters.length} filter${spec.filters.length === 1 ? '' : 's'}`
    : '';
  return `${metric} in ${spec.table}${group}${filters}`;
}
