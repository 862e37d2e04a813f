import type { RestaurantBot } from '@syncdeck/core';
import { useQuery } from '@tanstack/react-query';
import { get } from '../../api.ts';
import { useTenant } from '../../session.tsx';
import { formatPhone } from '../../ui.tsx';

/* What the inbox's parts, and the pages that show conversations, share. */

export function useRestaurantBots() {
  const { tenant, key } = useTenant();
  return useQuery({
    queryKey: [...key, 'restaurant-bots'],
    queryFn: () => get<RestaurantBot[]>(`/api/db/restaurants/${encodeURIComponent(tenant.slug)}/bots`),
  });
}

export function displayName(c: { customerName: string | null; customerPhone: string | null }) {
  return c.customerName ?? formatPhone(c.customerPhone);
}
