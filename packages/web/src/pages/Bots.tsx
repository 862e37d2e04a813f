import type { Bot, CreateBotInput, DeletedBot, UpdateBotInput } from '@syncdeck/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ApiError, errorMessage, request } from '../api.ts';
import { ListStates, PagedTable, useTenantList } from '../lists.tsx';
import { useTenant } from '../session.tsx';
import { ConfirmDialog, Empty, formatPhone, formatTime, PageHeader, StatusBadge, FormError } from '../ui.tsx';

const botStatuses = ['ACTIVE', 'PENDING', 'VERIFYING', 'FAILED', 'INACTIVE'] as const;

interface BotForm {
  name: string;
  restaurantName: string;
  whatsappNumber: string;
  senderSid: string;
  wabaId: string;
  accountSid: string;
  authToken: string;
  status: string;
  supportContact: string;
}

const blank: BotForm = {
  name: '',
  restaurantName: '',
  whatsappNumber: '',
  senderSid: '',
  wabaId: '',
  accountSid: '',
  authToken: '',
  status: 'ACTIVE',
  supportContact: '',
};

/** The seed's two senders; their Twilio account SID and auth token are still to be provided. */
const quickFills: { label: string; values: Partial<BotForm> }[] = [
  {
    label: 'Sufrah',
    values: {
      name: 'Sufrah Bot',
      restaurantName: 'Sufrah',
      whatsappNumber: 'whatsapp:+966508034010',
      senderSid: 'XE23c4f8b55966a1bfd101338f4c68b8cb',
      wabaId: '777730705047590',
      status: 'ACTIVE',
      supportContact: 'info@sufrah.sa',
    },
  },
  {
    label: 'Ocean Restaurant',
    values: {
      name: 'Ocean Restaurant Bot',
      restaurantName: 'مطعم شاورما وفلافل أوشن',
      whatsappNumber: 'whatsapp:+966502045939',
      senderSid: 'XE803ebc75db963fdfa0e813d6f4f001f6',
      wabaId: '777730705047590',
      status: 'ACTIVE',
      supportContact: '',
    },
  },
];

function fromBot(bot: Bot): BotForm {
  return {
    name: bot.name,
    restaurantName: bot.restaurantName ?? '',
    whatsappNumber: bot.whatsappNumber ?? bot.address,
    senderSid: bot.senderSid ?? '',
    wabaId: bot.wabaId ?? '',
    accountSid: bot.accountSid ?? '',
    authToken: '',
    status: bot.status,
    supportContact: bot.supportContact ?? '',
  };
}

type Errors = Partial<Record<keyof BotForm | 'form', string>>;

function check(form: BotForm, creating: boolean): Errors {
  const errors: Errors = {};
  const required: (keyof BotForm)[] = ['name', 'restaurantName', 'whatsappNumber', 'accountSid'];
  if (creating) required.push('authToken');
  for (const field of required) if (!form[field].trim()) errors[field] = 'Required';
  if (form.accountSid.trim() && !form.accountSid.trim().startsWith('AC'))
    errors.accountSid = 'A Twilio account SID starts with AC';
  if (form.senderSid.trim() && !form.senderSid.trim().startsWith('XE'))
    errors.senderSid = 'A Twilio sender SID starts with XE';
  return errors;
}

function BotEditor({ bot, onDone }: { bot: Bot | null; onDone: () => void }) {
  const { tenant, key } = useTenant();
  const client = useQueryClient();
  const [form, setForm] = useState<BotForm>(bot ? fromBot(bot) : blank);
  const [errors, setErrors] = useState<Errors>({});
  const save = useMutation({
    mutationFn: async () => {
      const optional = (value: string) => value.trim() || undefined;
      if (!bot) {
        const body: CreateBotInput = {
          name: form.name,
          restaurantName: form.restaurantName,
          whatsappNumber: form.whatsappNumber,
          accountSid: form.accountSid,
          authToken: form.authToken,
          status: form.status as CreateBotInput['status'],
          senderSid: optional(form.senderSid),
          wabaId: optional(form.wabaId),
          supportContact: optional(form.supportContact),
        };
        return request<Bot>('/api/admin/bots', { method: 'POST', tenant: tenant.slug, body });
      }
      const clearable = (value: string) => value.trim() || null;
      const body: UpdateBotInput = {
        name: form.name,
        restaurantName: form.restaurantName,
        whatsappNumber: form.whatsappNumber,
        accountSid: form.accountSid,
        status: form.status as UpdateBotInput['status'],
        senderSid: clearable(form.senderSid),
        wabaId: clearable(form.wabaId),
        supportContact: clearable(form.supportContact),
        // Write-only: sent only when a new one is typed.
        ...(form.authToken ? { authToken: form.authToken } : {}),
      };
      return request<Bot>(`/api/admin/bots/${bot.id}`, { method: 'PUT', tenant: tenant.slug, body });
    },
    onSuccess: () => {
      client.invalidateQueries({ queryKey: [...key, 'bots'] });
      client.invalidateQueries({ queryKey: [...key, 'restaurant-bots'] });
      onDone();
    },
    onError: (error) => {
      if (error instanceof ApiError) {
        const next: Errors = {};
        for (const field of Object.keys(blank) as (keyof BotForm)[]) {
          const message = error.field(field);
          if (message) next[field] = message;
        }
        if (Object.keys(next).length === 0 || error.status === 409) next.form = error.message;
        setErrors(next);
      } else setErrors({ form: errorMessage(error) });
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    const found = check(form, !bot);
    setErrors(found);
    if (Object.keys(found).length === 0) save.mutate();
  }

  const field = (
    name: keyof BotForm,
    label: string,
    props: { type?: string; placeholder?: string; hint?: string } = {},
  ) => (
    <label className="field">
      <span>{label}</span>
      <input
        name={name}
        type={props.type ?? 'text'}
        value={form[name]}
        placeholder={props.placeholder}
        autoComplete={props.type === 'password' ? 'new-password' : 'off'}
        dir="auto"
        aria-invalid={errors[name] ? true : undefined}
        aria-describedby={errors[name] ? `${name}-error` : undefined}
        onChange={(e) => setForm({ ...form, [name]: e.target.value })}
      />
      {errors[name] ? (
        <span className="field-error" id={`${name}-error`} role="alert">
          {errors[name]}
        </span>
      ) : props.hint ? (
        <span className="muted small">{props.hint}</span>
      ) : null}
    </label>
  );

  return (
    <form
      className="card bot-form"
      onSubmit={submit}
      aria-label={bot ? `Edit ${bot.name}` : 'Register a new bot'}
      noValidate
    >
      <div className="form-head">
        <h2>{bot ? `Edit ${bot.name}` : 'Register a new bot'}</h2>
        {bot ? null : (
          <fieldset className="quick-fill">
            <legend className="muted small">Quick fill</legend>
            {quickFills.map((fill) => (
              <button
                key={fill.label}
                type="button"
                className="button small ghost"
                onClick={() => {
                  setForm({ ...form, ...fill.values });
                  setErrors({});
                }}
              >
                {fill.label}
              </button>
            ))}
          </fieldset>
        )}
      </div>
      <div className="form-grid">
        {field('name', 'Bot name')}
        {field('restaurantName', 'Restaurant name')}
        {field('whatsappNumber', 'WhatsApp number', { placeholder: 'whatsapp:+966508034010' })}
        <label className="field">
          <span>Status</span>
          <select value={form.status} onChange={(e) => setForm({ ...form, status: e.target.value })}>
            {botStatuses.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        {field('senderSid', 'Sender SID', { placeholder: 'XE…' })}
        {field('wabaId', 'WABA id')}
        {field('accountSid', 'Twilio account SID', { placeholder: 'AC…' })}
        {field('authToken', 'Twilio auth token', {
          type: 'password',
          hint: bot?.hasAuthToken
            ? 'A token is stored and never shown. Leave empty to keep it.'
            : 'Stored encrypted; never shown again.',
        })}
        {field('supportContact', 'Support contact')}
      </div>
      <FormError error={errors.form} />
      <div className="form-actions">
        <button type="button" className="button ghost" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="button primary" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : bot ? 'Save changes' : 'Register bot'}
        </button>
      </div>
    </form>
  );
}

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
