import type { Tenant } from '@syncdeck/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { request } from '../api.ts';
import { useTenant } from '../session.tsx';
import { formatMoney, FormError } from '../ui.tsx';

/** Every currency the browser can format, by code, with its name in the user's language. */
function currencyOptions(): [string, string][] {
  const codes = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('currency') : [];
  const names = new Intl.DisplayNames(undefined, { type: 'currency' });
  return codes.map((code) => [code, `${code} — ${names.of(code) ?? code}`]);
}

/** The currency the tenant's amounts are in: every amount on every screen is shown in it. */
export function TenantCurrency() {
  const { tenant } = useTenant();
  const client = useQueryClient();
  const [currency, setCurrency] = useState(tenant.currency);
  // Saved here or changed elsewhere: the choice shown follows the tenant's.
  useEffect(() => setCurrency(tenant.currency), [tenant.currency]);
  const [options] = useState(currencyOptions);
  const selectId = useId();
  const save = useMutation({
    mutationFn: async () =>
      (await request<Tenant>(`/api/admin/tenants/${tenant.id}`, { method: 'PATCH', body: { currency } }))
        .data,
    // The tenant is read from the tenants list: refetching it re-renders every amount.
    onSuccess: () => client.invalidateQueries({ queryKey: ['tenants'] }),
  });
  const known = options.some(([code]) => code === tenant.currency);
  return (
    <section className="card" aria-labelledby="currency-title">
      <h2 id="currency-title">Currency</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        {/* Not wrapping the select: its label would then read as every currency's name. */}
        <div className="field">
          <label htmlFor={selectId}>Order totals and revenue are in</label>
          <select id={selectId} value={currency} onChange={(e) => setCurrency(e.target.value)}>
            {known ? null : <option value={tenant.currency}>{tenant.currency}</option>}
            {options.map(([code, label]) => (
              <option key={code} value={code}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <button
          type="submit"
          className="button primary"
          disabled={save.isPending || currency === tenant.currency}
        >
          Save
        </button>
        <span className="muted" data-testid="currency-example">
          e.g. {formatMoney(1234.5, currency)}
        </span>
      </form>
      <FormError error={save.error} />
    </section>
  );
}
