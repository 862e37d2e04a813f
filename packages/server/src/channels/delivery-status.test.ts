import { describe, expect, it } from 'vitest';
import {
  applyDeliveryReport,
  DELIVERY_STATUS_RANK,
  type DeliveryState,
  deliveryStatuses,
  deliveryStatusRankSql,
  isDeliveryStatus,
  type MessageDeliveryStatus,
  nextDeliveryStatus,
  restartDelivery,
} from './delivery-status.ts';

/** The whole table, written out: row is the current status, column the incoming one. */
const EXPECTED: Record<MessageDeliveryStatus, Record<MessageDeliveryStatus, MessageDeliveryStatus>> = {
  queued: {
    queued: 'queued',
    sending: 'sending',
    sent: 'sent',
    failed: 'failed',
    undelivered: 'undelivered',
    delivered: 'delivered',
    read: 'read',
  },
  sending: {
    queued: 'sending',
    sending: 'sending',
    sent: 'sent',
    failed: 'failed',
    undelivered: 'undelivered',
    delivered: 'delivered',
    read: 'read',
  },
  sent: {
    queued: 'sent',
    sending: 'sent',
    sent: 'sent',
    failed: 'failed',
    undelivered: 'undelivered',
    delivered: 'delivered',
    read: 'read',
  },
  failed: {
    queued: 'failed',
    sending: 'failed',
    sent: 'failed',
    failed: 'failed',
    undelivered: 'undelivered',
    delivered: 'delivered',
    read: 'read',
  },
  undelivered: {
    queued: 'undelivered',
    sending: 'undelivered',
    sent: 'undelivered',
    failed: 'undelivered',
    undelivered: 'undelivered',
    delivered: 'delivered',
    read: 'read',
  },
  delivered: {
    queued: 'delivered',
    sending: 'delivered',
    sent: 'delivered',
    failed: 'delivered',
    undelivered: 'delivered',
    delivered: 'delivered',
    read: 'read',
  },
  read: {
    queued: 'read',
    sending: 'read',
    sent: 'read',
    failed: 'read',
    undelivered: 'read',
    delivered: 'read',
    read: 'read',
  },
};

/** Every ordering of `items`. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

describe('nextDeliveryStatus', () => {
  for (const current of deliveryStatuses) {
    for (const incoming of deliveryStatuses) {
      it(`${current} + ${incoming} → ${EXPECTED[current][incoming]}`, () => {
        expect(nextDeliveryStatus(current, incoming)).toBe(EXPECTED[current][incoming]);
      });
    }
  }

  it('takes the first report on a message with no status', () => {
    for (const incoming of deliveryStatuses) expect(nextDeliveryStatus(null, incoming)).toBe(incoming);
  });

  it('is commutative, associative and idempotent over every pair and triple', () => {
    const next = nextDeliveryStatus;
    for (const a of deliveryStatuses) {
      expect(next(a, a)).toBe(a);
      for (const b of deliveryStatuses) {
        expect(next(a, b)).toBe(next(b, a));
        for (const c of deliveryStatuses) expect(next(next(a, b), c)).toBe(next(a, next(b, c)));
      }
    }
  });

  it('ends in the same status for every arrival order of a whole lifecycle (5040 orders)', () => {
    const orders = permutations(deliveryStatuses);
    expect(orders).toHaveLength(5040);
    for (const order of orders)
      expect(order.reduce<MessageDeliveryStatus | null>(nextDeliveryStatus, null)).toBe('read');
  });

  it("ends as the story says for each of Twilio's usual lifecycles, in any order", () => {
    const stories: [MessageDeliveryStatus[], MessageDeliveryStatus][] = [
      [['queued', 'sending', 'sent', 'delivered', 'read'], 'read'],
      [['queued', 'sending', 'sent', 'delivered'], 'delivered'],
      [['queued', 'sending', 'sent', 'undelivered'], 'undelivered'],
      [['queued', 'failed'], 'failed'],
      [['queued', 'sending', 'sent', 'failed'], 'failed'],
    ];
    for (const [story, end] of stories)
      for (const order of permutations(story))
        expect(order.reduce<MessageDeliveryStatus | null>(nextDeliveryStatus, null)).toBe(end);
  });
});

describe('applyDeliveryReport', () => {
  const state = (status: MessageDeliveryStatus, errorCode: string | null = null): DeliveryState => ({
    status,
    errorCode,
    errorReason: errorCode ? `reason ${errorCode}` : null,
  });

  it('records a failure with its code and reason', () => {
    expect(
      applyDeliveryReport(state('sent'), { status: 'failed', errorCode: '63016', errorReason: 'window' }),
    ).toEqual({ changed: true, state: { status: 'failed', errorCode: '63016', errorReason: 'window' } });
  });

  it('changes nothing for a report that does not win, keeping the stored error', () => {
    const read = state('read');
    expect(applyDeliveryReport(read, { status: 'sent' })).toEqual({ changed: false, state: read });
    const failed = state('undelivered', '30008');
    expect(applyDeliveryReport(failed, { status: 'failed', errorCode: '30003' })).toEqual({
      changed: false,
      state: failed,
    });
  });

  it('clears the error when a receipt overrules a failure', () => {
    expect(applyDeliveryReport(state('failed', '30008'), { status: 'delivered', errorCode: '1' })).toEqual({
      changed: true,
      state: { status: 'delivered', errorCode: null, errorReason: null },
    });
  });

  it('fills in the code a repeated failure brings, but never replaces one', () => {
    expect(
      applyDeliveryReport(state('failed'), { status: 'failed', errorCode: '21211' }).state.errorCode,
    ).toBe('21211');
    expect(applyDeliveryReport(state('failed', '21211'), { status: 'failed', errorCode: '9' }).changed).toBe(
      false,
    );
  });

  it('starts from nothing', () => {
    expect(applyDeliveryReport(null, { status: 'queued' })).toEqual({
      changed: true,
      state: { status: 'queued', errorCode: null, errorReason: null },
    });
  });
});

describe('restartDelivery', () => {
  it('queues a failed message again, and refuses anything else', () => {
    for (const status of deliveryStatuses) {
      const restarted = restartDelivery({ status, errorCode: 'x', errorReason: 'y' });
      if (status === 'failed' || status === 'undelivered')
        expect(restarted).toEqual({ status: 'queued', errorCode: null, errorReason: null });
      else expect(restarted).toBeNull();
    }
  });
});

describe('helpers', () => {
  it('knows its statuses', () => {
    expect(isDeliveryStatus('read')).toBe(true);
    expect(isDeliveryStatus('received')).toBe(false);
    expect(isDeliveryStatus(3)).toBe(false);
  });

  it('writes the rank as SQL matching DELIVERY_STATUS_RANK, for column names only', () => {
    const sql = deliveryStatusRankSql('m.delivery_status');
    for (const status of deliveryStatuses)
      expect(sql).toContain(`WHEN '${status}' THEN ${DELIVERY_STATUS_RANK[status]}`);
    expect(sql).toMatch(/^CASE m\.delivery_status .* ELSE -1 END$/);
    expect(() => deliveryStatusRankSql("x'; DROP TABLE messages; --")).toThrow();
  });
});
