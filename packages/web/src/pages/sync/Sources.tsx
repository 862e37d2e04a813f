import type { Source } from '@syncdeck/core';
import { useQuery } from '@tanstack/react-query';
import { get } from '../../api.ts';
import { useMe, useTenant } from '../../session.tsx';
import { Empty, ErrorState, formatTime, Skeleton } from '../../ui.tsx';

export function Sources() {
  const me = useMe();
  const { key } = useTenant();
  const admin = Boolean(me.data?.user?.platformAdmin);
  const sources = useQuery({
    queryKey: [...key, 'sync-sources'],
    queryFn: async () => (await get<{ data: Source[] }>('/api/admin/sources')).data,
    enabled: admin,
  });
  if (!admin)
    return (
      <Empty title="Sources need a platform admin">
        A source (the platform that pushes rows here) and its signing secrets are set up by a platform admin.
        The webhook log shows everything the sources pushed for this tenant.
      </Empty>
    );
  if (sources.isPending) return <Skeleton rows={3} height={90} />;
  if (sources.isError) return <ErrorState error={sources.error} retry={() => sources.refetch()} />;
  if (sources.data.length === 0)
    return (
      <Empty title="No sources yet">
        Create one with <code>npx syncdeck source create NAME --secret …</code>.
      </Empty>
    );
  return (
    <div className="source-grid">
      {sources.data.map((source) => (
        <section key={source.id} className="card" aria-labelledby={`source-${source.id}`}>
          <div className="section-head">
            <h2 id={`source-${source.id}`}>{source.name}</h2>
            <span className="muted small">schema {source.schema}</span>
          </div>
          <p className="muted small">
            Webhook: <code>POST /api/webhooks/{source.name}</code> · since {formatTime(source.createdAt)}
          </p>
          <h3 id={`secrets-${source.id}`}>Signing secrets</h3>
          <dl className="facts" aria-labelledby={`secrets-${source.id}`}>
            {source.secrets.map((secret) => (
              <div key={secret.fingerprint}>
                <dt>
                  <code>{secret.fingerprint}</code>
                </dt>
                <dd className="muted">added {formatTime(secret.createdAt)}</dd>
              </div>
            ))}
          </dl>
          <h3 id={`tables-${source.id}`}>Tables</h3>
          <table className="table compact" aria-labelledby={`tables-${source.id}`}>
            <thead>
              <tr>
                <th scope="col">Source table</th>
                <th scope="col">Synced as</th>
              </tr>
            </thead>
            <tbody>
              {source.tables.map((mapping) => (
                <tr key={mapping.sourceTable}>
                  <td>
                    <code>{mapping.sourceTable}</code>
                  </td>
                  <td>
                    <code>{mapping.targetTable}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}
