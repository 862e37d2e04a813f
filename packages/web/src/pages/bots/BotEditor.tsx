import type { Bot, CreateBotInput, UpdateBotInput } from '@syncdeck/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ApiError, errorMessage, request } from '../../api.ts';
import { useTenant } from '../../session.tsx';
import { FormError } from '../../ui.tsx';
import { type BotForm, blank, botStatuses, check, type Errors, fromBot, quickFills } from './botForm.ts';

export function BotEditor({ bot, onDone }: { bot: Bot | null; onDone: () => void }) {
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
