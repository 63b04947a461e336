// Public exports of khalti-express/sandbox.

export {
  createKhaltiSandbox,
  type KhaltiSandbox,
  type KhaltiSandboxOptions,
  type SandboxRequest,
  type SandboxPayment,
  type SandboxPaymentState,
  type NewPayment,
  type SandboxEpayment,
  type EpaymentStatus,
} from './sandbox';
export { SandboxFaults, type FaultKind, type FaultOptions, type FaultTarget } from './faults';
export { TEST_MOBILES, TEST_MPIN, TEST_OTP, PIN_TRIES } from './payments';
export { routeKhaltiWidget, type RoutableLike, type RouteLike, type WidgetRoutesOptions } from './widget-routes';
