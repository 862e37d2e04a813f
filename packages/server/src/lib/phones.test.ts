import { describe, expect, it } from 'vitest';
import { normalisePhone } from './phones.ts';

describe('normalisePhone', () => {
  it('reads every common spelling as E.164, and a national number by the region given', () => {
    for (const spelling of ['whatsapp:+966501234567', '+966 50 123 4567', '00966501234567']) {
      expect(normalisePhone(spelling, 'SA')).toBe('+966501234567');
    }
    expect(normalisePhone('0501234567', 'SA')).toBe('+966501234567');
    // The same spelling in another region is another number: the memo keys on both.
    expect(normalisePhone('0501234567', 'AE')).toBe('+971501234567');
    expect(normalisePhone('not a phone', 'SA')).toBeNull();
    expect(normalisePhone('not a phone', 'SA')).toBeNull();
  });

  it('answers the same once its memo has moved past an input', () => {
    expect(normalisePhone('+966 50 000 0001', 'SA')).toBe('+966500000001');
    for (let i = 0; i < 25_000; i++) normalisePhone(`+9665${String(10_000_000 + i)}`, 'SA');
    expect(normalisePhone('+966 50 000 0001', 'SA')).toBe('+966500000001');
    expect(normalisePhone('+966 51 000 0002', 'SA')).toBe('+966510000002');
  });
});
