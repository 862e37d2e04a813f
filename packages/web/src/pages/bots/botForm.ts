import type { Bot } from '@syncdeck/core';

/* The bot form's values: blank, filled from a bot or a quick fill, and checked before saving. */

export const botStatuses = ['ACTIVE', 'PENDING', 'VERIFYING', 'FAILED', 'INACTIVE'] as const;

export interface BotForm {
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

export const blank: BotForm = {
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
export const quickFills: { label: string; values: Partial<BotForm> }[] = [
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

export function fromBot(bot: Bot): BotForm {
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

export type Errors = Partial<Record<keyof BotForm | 'form', string>>;

export function check(form: BotForm, creating: boolean): Errors {
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
