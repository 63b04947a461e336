// RedisStore's pieces: its scripts as ioredis commands, and a record read back from its hash.

import type { BeginRefundResult, ClaimResult, MarkVerifiedResult, PaymentRecord } from '../ledger/store';
import * as listingScripts from './redis-listing-scripts';
import * as refundScripts from './redis-refund-scripts';
import * as scripts from './redis-scripts';

export type ClaimReply = [ClaimResult['status'], 'takeover' | 'insert' | '', string[]];

export interface Scripted {
  khxClaim(...args: string[]): Promise<ClaimReply>;
  khxMarkVerified(...args: string[]): Promise<MarkVerifiedResult>;
  khxMarkFulfilled(...args: string[]): Promise<number>;
  khxMarkUnfulfillable(...args: string[]): Promise<number>;
  khxMarkDeclined(...args: string[]): Promise<number>;
  khxRelease(...args: string[]): Promise<number>;
  khxEndLease(...args: string[]): Promise<number>;
  khxListStale(...args: string[]): Promise<string[]>;
  khxRefundBegin(...args: string[]): Promise<Exclude<BeginRefundResult['status'], never>>;
  khxRefundSettle(...args: string[]): Promise<number>;
  khxRefundEndLease(...args: string[]): Promise<number>;
  khxRefundTake(...args: string[]): Promise<number>;
  khxListPendingRefunds(...args: string[]): Promise<string[]>;
  khxListPage(...args: string[]): Promise<string[]>;
  khxIndexRecords(...args: string[]): Promise<number>;
}

export const SCRIPTS: Array<[keyof Scripted, number, string]> = [
  ['khxClaim', 3, scripts.CLAIM],
  ['khxMarkVerified', 3, scripts.MARK_VERIFIED],
  ['khxMarkFulfilled', 2, scripts.MARK_FULFILLED],
  ['khxMarkUnfulfillable', 3, scripts.MARK_UNFULFILLABLE],
  ['khxMarkDeclined', 2, scripts.MARK_DECLINED],
  ['khxRelease', 3, scripts.RELEASE],
  ['khxEndLease', 1, scripts.END_LEASE],
  ['khxListStale', 1, scripts.LIST_STALE],
  ['khxRefundBegin', 3, refundScripts.REFUND_BEGIN],
  ['khxRefundSettle', 2, refundScripts.REFUND_SETTLE],
  ['khxRefundEndLease', 1, refundScripts.REFUND_END_LEASE],
  ['khxRefundTake', 1, refundScripts.REFUND_TAKE],
  ['khxListPendingRefunds', 1, refundScripts.LIST_PENDING_REFUNDS],
  ['khxListPage', 1, listingScripts.LIST_PAGE],
  ['khxIndexRecords', 0, listingScripts.INDEX_RECORDS],
];

const orNull = (value: string | undefined): string | null => (value === undefined || value === '' ? null : value);

export function fromHash(hash: Record<string, string>): PaymentRecord | null {
  if (hash.token === undefined) return null;
  return {
    token: hash.token,
    orderId: hash.orderId ?? '',
    amount: Number(hash.amount),
    state: hash.state as PaymentRecord['state'],
    owner: orNull(hash.owner),
    leaseUntil: Number(hash.leaseUntil),
    transactionId: orNull(hash.transactionId),
    khalti: JSON.parse(hash.khalti ?? 'null') as unknown,
    response: JSON.parse(hash.response ?? 'null') as unknown,
    failureCode: orNull(hash.failureCode),
    refundedTotal: Number(hash.refundedTotal ?? 0),
    refund: orNull(hash.refundId)
      ? {
          id: hash.refundId!,
          amount: Number(hash.refundAmount),
          mobile: orNull(hash.refundMobile),
          owner: orNull(hash.refundOwner),
          leaseUntil: Number(hash.refundLeaseUntil),
          requestedAt: Number(hash.refundRequestedAt),
        }
      : null,
    refunds: orNull(hash.refunds) ? (JSON.parse(hash.refunds!) as PaymentRecord['refunds']) : [],
    createdAt: Number(hash.createdAt),
    updatedAt: Number(hash.updatedAt),
  };
}
