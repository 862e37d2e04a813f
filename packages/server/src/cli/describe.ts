import type { ApiKey, CreatedApiKey, Member, Source, Tenant } from '@syncdeck/core';
import type { CliCommandName } from '../control/index.ts';
import type { InitialiseResult } from '../installation/index.ts';
import type { SourceTenantMapping, TenantRef } from '../rowsync/index.ts';
import type { AddedMember } from '../users/index.ts';

/** A command's result as a person reads it (`--json` prints the result itself). */
export function describe(name: CliCommandName, result: unknown): string {
  switch (name) {
    case 'init': {
      const init = result as InitialiseResult;
      if (!init.created)
        return `Already initialised (admin: ${init.email ?? 'unknown'}); nothing was created.`;
      return [
        'Initialised. Keep these; they are shown only this once:',
        `  Admin login:   ${init.email}`,
        `  Password:      ${init.password ?? '(the one you gave)'}`,
        `  Admin API key: ${init.apiKey.token}`,
      ].join('\n');
    }
    case 'tenant create':
    case 'tenant update': {
      const tenant = result as Tenant;
      const verb = name === 'tenant create' ? 'Created' : 'Updated';
      return `${verb} tenant ${tenant.slug} (${tenant.name}), currency ${tenant.currency}, id ${tenant.id}`;
    }
    case 'key create': {
      const key = result as CreatedApiKey;
      return `Created API key "${key.name}" with scopes ${key.scopes.join(',')}. Token (shown once):\n${key.token}`;
    }
    case 'source create':
    case 'source secret':
    case 'source map': {
      const source = result as Source;
      const verb = { 'source create': 'Created', 'source secret': 'Updated', 'source map': 'Mapped' }[name];
      return [
        `${verb} source ${source.name} (schema ${source.schema}); webhook: POST /api/webhooks/${source.name}`,
        `  Active secrets: ${source.secrets.map((s) => s.fingerprint).join(', ')}`,
        ...source.tables.map((t) => `  ${t.sourceTable} -> ${t.targetTable}`),
      ].join('\n');
    }
    case 'tenant list':
      return table(
        ['slug', 'name', 'currency', 'id'],
        (result as Tenant[]).map((t) => [t.slug, t.name, t.currency, t.id]),
        'No tenants yet.',
      );
    case 'key list':
      return table(
        ['name', 'prefix', 'scopes', 'created', 'revoked'],
        (result as ApiKey[]).map((k) => [
          k.name,
          k.prefix,
          k.scopes.join(','),
          k.createdAt,
          k.revokedAt ?? '',
        ]),
        'No API keys for this tenant.',
      );
    case 'user list':
      return table(
        ['email', 'role', 'id'],
        (result as Member[]).map((m) => [m.email, m.role, m.id]),
        'No members in this tenant.',
      );
    case 'source list':
      return table(
        ['name', 'schema', 'secrets', 'tables'],
        (result as Source[]).map((s) => [
          s.name,
          s.schema,
          String(s.secrets.length),
          s.tables.map((t) => `${t.sourceTable}->${t.targetTable}`).join(' '),
        ]),
        'No row-sync sources yet.',
      );
    case 'source tenants':
      return table(
        ['tenant id', 'tenant', 'made by', 'since'],
        (result as SourceTenantMapping[]).map((m) => [m.externalId, m.tenant.slug, m.origin, m.updatedAt]),
        'No tenant ids pushed or mapped yet.',
      );
    case 'source map-tenant': {
      const mapped = result as SourceTenantMapping & { previousTenant: TenantRef | null };
      const lines = [`Pushes with tenant_id ${mapped.externalId} now land in tenant ${mapped.tenant.slug}.`];
      if (mapped.previousTenant)
        lines.push(
          `Rows pushed before stay in ${mapped.previousTenant.slug}; a full sync fills the new tenant.`,
        );
      return lines.join('\n');
    }
    case 'source unmap-tenant': {
      const forgotten = result as { externalId: string };
      return `Forgot tenant id ${forgotten.externalId}: its next push creates a new tenant.`;
    }
    case 'user password': {
      const changed = result as { user: { email: string }; generatedPassword?: string };
      const lines = [`Set the password of ${changed.user.email}; their sessions were ended.`];
      if (changed.generatedPassword)
        lines.push(`Generated password (shown once): ${changed.generatedPassword}`);
      return lines.join('\n');
    }
    case 'user create': {
      const added = result as AddedMember;
      const lines = [
        `${added.userCreated ? 'Created user' : 'User'} ${added.member.email} is now ${added.member.role} of this tenant.`,
      ];
      if (added.generatedPassword) lines.push(`Generated password (shown once): ${added.generatedPassword}`);
      return lines.join('\n');
    }
  }
}

/** Columns padded to their widest cell, or `empty` when there are no rows. */
function table(headers: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return empty;
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
