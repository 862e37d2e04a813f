import type { Bot, DeletedBot } from '@syncdeck/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { request } from '../../api.ts';
import { ListStates, PagedTable, useTenantList } from '../../lists.tsx';
import { useTenant } from '../../session.tsx';
import {
  ConfirmDialog,
  Empty,
  formatPhone,
  formatTime,
  PageHeader,
  StatusBadge,
  FormError,
} from '../../ui.tsx';
import { BotEditor } from './BotEditor.tsx';

type Pending = { bot: Bot; action: 'deactivate' | 'activate' | 'delete' } | null;

export function Bots() {
  const { tenant, key, can } = useTenant();
  const client = useQueryClient();
  const [editing, setEditing] = useState<Bot | 'new' | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const list = useTenantList<Bot>('bots', '/api/admin/bots', { enabled: can('admin') });
  const act = useMutation({
    mutationFn: async (p: NonNullable<Pending>) => {
      if (p.action === 'delete') {
        const { data } = await request<DeletedBot>(`/api/admin/bots/${p.bot.id}`, {
          method: 'DELETE',
          tenant: tenant.slug,
        });
        return data.message;
      }
      await request<Bot>(`/api/admin/bots/${p.bot.id}`, {
        method: 'PUT',
        tenant: tenant.slug,
        body: { isActive: p.action === 'activate' },
      });
      return `${p.bot.name} is ${p.action === 'activate' ? 'active' : 'inactive'}.`;
    },
    onSuccess: (message) => {
      setPending(null);
      setNotice(message);
      client.invalidateQueries({ queryKey: [...key, 'bots'] });
      client.invalidateQueries({ queryKey: [...key, 'restaurant-bots'] });
    },
  });

  if (!can('admin')) return <Empty title="Bots are managed by the tenant's admins" />;
  return (
    <div className="page">
      <PageHeader title="Bots">
        <button
          type="button"
          className="button primary"
          onClick={() => setEditing('new')}
          disabled={editing !== null}
        >
          Register new bot
        </button>
      </PageHeader>
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      {editing ? (
        <BotEditor
          key={editing === 'new' ? 'new' : editing.id}
          bot={editing === 'new' ? null : editing}
          onDone={() => setEditing(null)}
        />
      ) : null}
      <ListStates
        list={list}
        skeleton={4}
        empty={
          <Empty title="No bots registered">
            Register a WhatsApp sender, or let a bot's first event add it.
          </Empty>
        }
      >
        <PagedTable
          list={list}
          testId="bot-table"
          columns={['Bot', 'Restaurant', 'Number', 'Status', 'Auth token', 'Registered']}
          actions
        >
          {list.rows.map((bot) => (
            <tr key={bot.id}>
              <td>{bot.name}</td>
              <td dir="auto">{bot.restaurantName ?? '—'}</td>
              <td className="nowrap">{formatPhone(bot.whatsappNumber ?? bot.address)}</td>
              <td>
                <StatusBadge status={bot.status} />
              </td>
              <td>{bot.hasAuthToken ? 'stored' : 'missing'}</td>
              <td className="nowrap">{bot.registeredAt ? formatTime(bot.registeredAt) : 'seen by ingest'}</td>
              <td className="actions">
                <button type="button" className="button small ghost" onClick={() => setEditing(bot)}>
                  Edit
                </button>
                {bot.isActive ? (
                  <button
                    type="button"
                    className="button small ghost"
                    onClick={() => setPending({ bot, action: 'deactivate' })}
                  >
                    Deactivate
                  </button>
                ) : (
                  <button
                    type="button"
                    className="button small ghost"
                    onClick={() => setPending({ bot, action: 'activate' })}
                  >
                    Activate
                  </button>
                )}
                <button
                  type="button"
                  className="button small ghost danger-text"
                  onClick={() => setPending({ bot, action: 'delete' })}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </PagedTable>
      </ListStates>
      <ConfirmDialog
        open={pending !== null}
        title={
          pending?.action === 'delete'
            ? `Delete ${pending.bot.name}?`
            : pending?.action === 'activate'
              ? `Activate ${pending.bot.name}?`
              : `Deactivate ${pending?.bot.name ?? ''}?`
        }
        confirmLabel={
          pending?.action === 'delete' ? 'Delete' : pending?.action === 'activate' ? 'Activate' : 'Deactivate'
        }
        danger={pending?.action !== 'activate'}
        busy={act.isPending}
        onCancel={() => {
          setPending(null);
          act.reset();
        }}
        onConfirm={() => pending && act.mutate(pending)}
      >
        <p>
          {pending?.action === 'delete'
            ? 'A bot with conversations keeps its history and is deactivated instead of deleted.'
            : pending?.action === 'activate'
              ? 'The sender is marked ACTIVE again.'
              : 'The sender is marked INACTIVE; its conversations stay.'}
        </p>
        <FormError error={act.error} />
      </ConfirmDialog>
    </div>
  );
}
