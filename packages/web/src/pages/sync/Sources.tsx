import type { Source } from '@syncdeck/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { ApiError, get, request } from '../../api.ts';
import { useMe, useTenant, useTenants } from '../../session.tsx';
import { Empty, ErrorState, FormError, formatTime, Skeleton } from '../../ui.tsx';
import { type MappedSourceTenant, OPTIQO_WEBHOOK_PATH, type SourceTenant } from './common.tsx';

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
            Webhook: <code>POST /api/webhooks/{source.name}</code>
            {source.name === 'optiqo' ? (
              <>
                {' '}
                (also <code>POST {OPTIQO_WEBHOOK_PATH}</code>)
              </>
            ) : null}{' '}
            · since {formatTime(source.createdAt)}
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
          <SourceTenants source={source} />
        </section>
      ))}
    </div>
  );
}

const origins: Record<SourceTenant['origin'], string> = {
  push: 'its first push',
  admin: 'an admin',
};

/** Where each of the source's tenant ids lands, and a form to send one to an existing tenant. */
function SourceTenants({ source }: { source: Source }) {
  const id = useId();
  const { key } = useTenant();
  const client = useQueryClient();
  const queryKey = [...key, 'sync-source-tenants', source.name];
  const mappings = useQuery({
    queryKey,
    queryFn: async () =>
      (await get<{ data: SourceTenant[] }>(`/api/admin/sources/${encodeURIComponent(source.name)}/tenants`))
        .data,
  });
  const tenants = useTenants(true);
  const [externalId, setExternalId] = useState('');
  const [tenant, setTenant] = useState('');
  const [done, setDone] = useState<MappedSourceTenant | null>(null);
  const map = useMutation({
    mutationFn: async () =>
      (
        await request<MappedSourceTenant>(
          `/api/admin/sources/${encodeURIComponent(source.name)}/tenants/${encodeURIComponent(externalId.trim())}`,
          { method: 'PUT', body: { tenant } },
        )
      ).data,
    onSuccess: (mapped) => {
      setDone(mapped);
      setExternalId('');
      client.invalidateQueries({ queryKey });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    if (externalId.trim() && tenant) map.mutate();
  };
  const idError = map.error instanceof ApiError ? map.error.field('externalId') : undefined;
  return (
    <>
      <h3 id={`${id}-title`}>Tenants</h3>
      <p className="muted small">
        Each <code>tenant_id</code> the source pushes lands in one tenant: one its first push created, or an
        existing one an admin chose. A new choice applies to later pushes; rows pushed before stay in the
        tenant they landed in, and a full sync from the source fills the new one.
      </p>
      {mappings.isPending ? (
        <Skeleton rows={2} height={24} />
      ) : mappings.isError ? (
        <ErrorState error={mappings.error} retry={() => mappings.refetch()} />
      ) : mappings.data.length === 0 ? (
        <p className="muted small">No tenant ids pushed or mapped yet.</p>
      ) : (
        <table className="table compact" aria-labelledby={`${id}-title`} data-testid="source-tenants">
          <thead>
            <tr>
              <th scope="col">Tenant id</th>
              <th scope="col">Lands in</th>
              <th scope="col">Chosen by</th>
              <th scope="col">Since</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {mappings.data.map((mapping) => (
              <tr key={mapping.externalId}>
                <td>
                  <code dir="auto">{mapping.externalId}</code>
                </td>
                <td className="nowrap">{mapping.tenant.slug}</td>
                <td>{origins[mapping.origin]}</td>
                <td className="nowrap">{formatTime(mapping.updatedAt)}</td>
                <td>
                  <button
                    type="button"
                    className="button small ghost"
                    aria-label={`Change the tenant of ${mapping.externalId}`}
                    onClick={() => {
                      setExternalId(mapping.externalId);
                      setTenant(mapping.tenant.slug);
                      setDone(null);
                    }}
                  >
                    Change
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="inline-form" onSubmit={submit} aria-label={`Map a tenant id of ${source.name}`}>
        <label className="field">
          <span>Source tenant id</span>
          <input
            value={externalId}
            onChange={(e) => setExternalId(e.target.value)}
            placeholder="e.g. sufrah"
            autoComplete="off"
            dir="auto"
            aria-invalid={idError ? true : undefined}
            aria-describedby={idError ? `${id}-id-error` : undefined}
          />
          {idError ? (
            <span className="field-error" id={`${id}-id-error`} role="alert">
              {idError}
            </span>
          ) : null}
        </label>
        <label className="field">
          <span>Lands in tenant</span>
          <select value={tenant} onChange={(e) => setTenant(e.target.value)}>
            <option value="">choose…</option>
            {(tenants.data ?? []).map((t) => (
              <option key={t.id} value={t.slug}>
                {t.slug}
              </option>
            ))}
          </select>
        </label>
        <button
          type="submit"
          className="button primary"
          disabled={map.isPending || !externalId.trim() || !tenant}
        >
          Map
        </button>
      </form>
      {idError ? null : <FormError error={map.error} />}
      {done ? (
        <p role="status" className="muted small">
          Later pushes with tenant id <code>{done.externalId}</code> land in{' '}
          <strong>{done.tenant.slug}</strong>.
          {done.previousTenant
            ? ` Rows pushed before stay in ${done.previousTenant.slug}; a full sync fills ${done.tenant.slug}.`
            : null}
        </p>
      ) : null}
    </>
  );
}
