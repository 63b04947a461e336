// Ask Khalti what happened to one claimed payment, and turn the answers into one decision (decide.ts),
// logging what an operator needs to know on the way.

import type { VerifyOutcome } from '../khalti/classify';
import { keyFields } from '../ledger/keys';
import type { Attempt } from './attempt';
import { decideLookup, decideStatus, decideVerify, type Decision, type UnknownWhy } from './decide';
import type { FlowDeps } from './deps';

/**
 * A widget payment. Verify first, unless an earlier attempt's outcome is unknown (`statusFirst`: then the
 * read-only status API first, since verify's answer for an already-verified token is undocumented). Any
 * answer that is not clearly a payment or clearly not one is `unknown`.
 */
export async function askWidget<Req>(deps: FlowDeps<Req>, attempt: Attempt<Req>, statusFirst: boolean): Promise<Decision> {
  const { key: token, amount } = attempt;
  const options = { deadline: attempt.deadline };
  let timedOut = false;
  let verifiedAgain = false;
  if (!statusFirst) {
    const verified = await deps.client.verify(token, amount, options);
    const decision = decideVerify(verified);
    if (decision.kind !== 'ask_status') return logged(deps, attempt, decision, verified);
    timedOut = decision.timedOut;
    if (verified.kind === 'unavailable') {
      deps.log('warn', 'Khalti verify gave no usable answer; asking the status API', {
        token,
        reason: verified.reason,
        httpStatus: verified.httpStatus,
      });
    }
  }
  for (;;) {
    const status = await deps.client.status(token, amount, options);
    const decision = decideStatus(status, amount);
    if (decision.kind !== 'verify_again')
      return logged(deps, attempt, decision.kind === 'unknown' ? { ...decision, timedOut: timedOut || decision.timedOut } : decision);
    if (verifiedAgain) return logged(deps, attempt, { kind: 'unknown', timedOut, why: { kind: 'still_confirmed' } });
    verifiedAgain = true;
    const verified = await deps.client.verify(token, amount, options);
    const again = decideVerify(verified);
    if (again.kind !== 'ask_status') return logged(deps, attempt, again, verified);
    timedOut ||= again.timedOut;
  }
}

/** An ePayment: lookup decides. Lookup is read-only, so it is safe to ask at any time. */
export async function askLookup<Req>(deps: FlowDeps<Req>, attempt: Attempt<Req>, pidx: string): Promise<Decision> {
  return logged(deps, attempt, decideLookup(await deps.client.lookup(pidx, { deadline: attempt.deadline })));
}

/** `decision`, after logging what it means for an operator. */
function logged<Req>(deps: FlowDeps<Req>, attempt: Attempt<Req>, decision: Decision, verified?: VerifyOutcome): Decision {
  if (decision.kind === 'unknown') logUnknown(deps, attempt, decision.why);
  else if (verified?.kind === 'rejected')
    deps.log('warn', 'Khalti rejected the payment token', { token: attempt.key, httpStatus: verified.httpStatus });
  return decision;
}

function logUnknown<Req>(deps: FlowDeps<Req>, attempt: Attempt<Req>, why: UnknownWhy): void {
  const api = keyFields(attempt.key);
  switch (why.kind) {
    case 'auth_failed':
      deps.log(
        'error',
        'configuration error: Khalti rejected our secret key (not the payment token). Check `secretKey` and that ' +
          '`baseUrl` matches it (test keys work on the sandbox host only)',
        { httpStatus: why.httpStatus, detail: why.detail },
      );
      return;
    case 'unreadable_amount':
      deps.log('warn', 'Khalti lookup said Completed without a usable total_amount; outcome unknown', api);
      return;
    case 'still_confirmed':
      deps.log('warn', 'Khalti status still says Confirmed after verifying again; outcome unknown', api);
      return;
    case 'unavailable':
      deps.log('warn', `Khalti ${'pidx' in api ? 'lookup' : 'status API'} gave no usable answer; outcome unknown`, {
        ...api,
        reason: why.reason,
      });
  }
}
