import type { ApiKey, CreatedApiKey, Member, Role, Scope } from '@syncdeck/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { request } from '../api.ts';
import { ListStates, PagedTable, useTenantList } from '../lists.tsx';
import { useMe, useTenant } from '../session.tsx';
import { Badge, ConfirmDialog, Empty, formatTime, PageHeader, FormError } from '../ui.tsx';
import { TenantCurrency } from './TenantCurrency.tsx';

const scopeList: Scope[] = ['read', 'operate', 'admin', 'ingest'];
const roleList: Role[] = ['owner', 'admin', 'agent', 'viewer'];

export function Settings() {
  const { can } = useTenant();
  if (!can('admin')) return <Empty title="Settings are managed by the tenant's admins" />;
  return (
    <div className="page">
      <PageHeader title="Settings" />
      <TenantCurrency />
      <ApiKeys />
      <Users />
    </div>
  );
}

function ApiKeys() {
  const { tenant, key } = useTenant();
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['read']);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const list = useTenantList<ApiKey>('keys', '/api/admin/keys');
  const create = useMutation({
    mutationFn: async () =>
      (
        await request<CreatedApiKey>('/api/admin/keys', {
          method: 'POST',
          tenant: tenant.slug,
          body: { name: name.trim() || 'API key', scopes },
        })
      ).data,
    onSuccess: (key_) => {
      setCreated(key_);
      setName('');
      client.invalidateQueries({ queryKey: [...key, 'keys'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (apiKey: ApiKey) =>
      request<ApiKey>(`/api/admin/keys/${apiKey.id}`, { method: 'DELETE', tenant: tenant.slug }),
    onSuccess: () => {
      setRevoking(null);
      client.invalidateQueries({ queryKey: [...key, 'keys'] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (scopes.length > 0) create.mutate();
  };
  return (
    <section className="card" aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <form className="inline-form" onSubmit={submit}>
        <label className="field">
          <span>Name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Sufrah bot" />
        </label>
        <fieldset className="field scopes">
          <legend>Scopes</legend>
          {scopeList.map((scope) => (
            <label key={scope} className="check">
              <input
                type="checkbox"
                checked={scopes.includes(scope)}
                onChange={(e) =>
                  setScopes(e.target.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope))
                }
              />
              {scope}
            </label>
          ))}
        </fieldset>
        <button type="submit" className="button primary" disabled={create.isPending || scopes.length === 0}>
          Create key
        </button>
      </form>
      {scopes.length === 0 ? <p className="field-error">Choose at least one scope.</p> : null}
      <FormError error={create.error} />
      {created ? (
        <div className="secret" role="status">
          <p>
            <strong>{created.name}</strong>: copy this token now, it is not shown again.
          </p>
          <code data-testid="new-token">{created.token}</code>
          <div className="form-actions">
            <button
              type="button"
              className="button small"
              onClick={() => navigator.clipboard?.writeText(created.token)}
            >
              Copy
            </button>
            <button type="button" className="button small ghost" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </div>
      ) : null}
      <ListStates list={list} skeleton={3} empty={<Empty title="No API keys" />}>
        <PagedTable list={list} columns={['Name', 'Token', 'Scopes', 'Created']} actions>
          {list.rows.map((k) => (
            <tr key={k.id} className={k.revokedAt ? 'revoked' : undefined}>
              <td>{k.name}</td>
              <td>
                <code>{k.prefix}…</code>
              </td>
              <td>{k.scopes.join(', ')}</td>
              <td className="nowrap">{formatTime(k.createdAt)}</td>
              <td className="actions">
                {k.revokedAt ? (
                  <Badge>revoked {formatTime(k.revokedAt)}</Badge>
                ) : (
                  <button
                    type="button"
                    className="button small ghost danger-text"
                    onClick={() => setRevoking(k)}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </PagedTable>
      </ListStates>
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke ${revoking?.name ?? ''}?`}
        confirmLabel="Revoke"
        danger
        busy={revoke.isPending}
        onCancel={() => setRevoking(null)}
        onConfirm={() => revoking && revoke.mutate(revoking)}
      >
        <p>Whatever uses this key stops working at once.</p>
        <FormError error={revoke.error} />
      </ConfirmDialog>
    </section>
  );
}

function Users() {
  const { tenant, key } = useTenant();
  const me = useMe();
  const client = useQueryClient();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('agent');
  const [generated, setGenerated] = useState<{ email: string; password: string } | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);
  const list = useTenantList<Member>('users', '/api/admin/users');
  const refresh = () => client.invalidateQueries({ queryKey: [...key, 'users'] });
  const add = useMutation({
    mutationFn: async () =>
      (
        await request<{ member: Member; generatedPassword?: string }>('/api/admin/users', {
          method: 'POST',
          tenant: tenant.slug,
          body: { email, role },
        })
      ).data,
    onSuccess: (data) => {
      if (data.generatedPassword)
        setGenerated({ email: data.member.email, password: data.generatedPassword });
      setEmail('');
      refresh();
    },
  });
  const change = useMutation({
    mutationFn: ({ id, role: next }: { id: string; role: Role }) =>
      request(`/api/admin/users/${id}`, { method: 'PUT', tenant: tenant.slug, body: { role: next } }),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: (member: Member) =>
      request(`/api/admin/users/${member.id}`, { method: 'DELETE', tenant: tenant.slug }),
    onSuccess: () => {
      setRemoving(null);
      refresh();
    },
  });
  return (
    <section className="card" aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate();
        }}
      >
        <label className="field">
          <span>Email</span>
          <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label className="field">
          <span>Role</span>
          <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {roleList.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="button primary" disabled={add.isPending}>
          Add user
        </button>
      </form>
      <FormError error={add.error} />
      <FormError error={change.error} />
      {generated ? (
        <div className="secret" role="status">
          <p>
            Password for <strong>{generated.email}</strong>, shown once:
          </p>
          <code>{generated.password}</code>
          <div className="form-actions">
            <button type="button" className="button small ghost" onClick={() => setGenerated(null)}>
              Done
            </button>
          </div>
        </div>
      ) : null}
      <ListStates list={list} skeleton={3} empty={<Empty title="No users in this tenant" />}>
        <PagedTable list={list} columns={['Email', 'Role', 'Since']} actions>
          {list.rows.map((member) => (
            <tr key={member.id}>
              <td>
                {member.email} {member.platformAdmin ? <Badge tone="violet">platform admin</Badge> : null}
              </td>
              <td>
                <select
                  aria-label={`Role of ${member.email}`}
                  value={member.role}
                  disabled={member.id === me.data?.user?.id}
                  onChange={(e) => change.mutate({ id: member.id, role: e.target.value as Role })}
                >
                  {roleList.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              </td>
              <td className="nowrap">{formatTime(member.createdAt)}</td>
              <td className="actions">
                {member.id === me.data?.user?.id ? (
                  <span className="muted small">you</span>
                ) : (
                  <button
                    type="button"
                    className="button small ghost danger-text"
                    onClick={() => setRemoving(member)}
                  >
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </PagedTable>
      </ListStates>
      <ConfirmDialog
        open={removing !== null}
        title={`Remove ${removing?.email ?? ''}?`}
        confirmLabel="Remove"
        danger
        busy={remove.isPending}
        onCancel={() => setRemoving(null)}
        onConfirm={() => removing && remove.mutate(removing)}
      >
        <p>Their access to this tenant ends at once.</p>
        <FormError error={remove.error} />
      </ConfirmDialog>
    </section>
  );
}
