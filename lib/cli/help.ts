// `khalti-ledger`'s usage texts: one per subcommand, and the overview.

export const OVERVIEW = `Usage: khalti-ledger <command> [options]

Commands:
  list       list payments, newest first
  show       one payment, with its history
  reconcile  ask Khalti about payments left in flight; resolve pending refunds
  refund     refund a payment, whole or in part
  settle-refund  settle a pending refund by hand, from Khalti's merchant dashboard

Every command takes:
  --store SPEC   sqlite:PATH | postgres://… | mysql://… | redis://…   (or KHALTI_LEDGER_STORE)
  --table NAME   the SQL table or Redis key prefix, if not the default
  --app MODULE   instead of --store: a module exporting \`khalti\`, your khaltiVerifier() router
                 (without listening), so reconcile fulfils orders with your own onVerified
  --json         machine-readable output
  --help         this text, or a command's own

The secret key is read from KHALTI_SECRET_KEY (reconcile, refund, settle-refund), never from an argument.
Exit status: 0 done, 1 something failed, 2 usage error.`;

export const COMMAND_HELP: Readonly<Record<string, string>> = {
  list: `Usage: khalti-ledger list [--state STATE] [--order ID] [--limit N] [--before CURSOR] [--json]

Payments newest first. STATE: claimed, verified, fulfilled, unfulfillable (owed back), declined.
--limit N (1-1000, default 50); the last line names the cursor of the next page (--before).`,
  show: `Usage: khalti-ledger show KEY [--json]

One payment: KEY is its widget token, or pidx:<pidx> for an ePayment (as \`list\` prints it).`,
  reconcile: `Usage: khalti-ledger reconcile [--limit N] [--json]

Asks Khalti about payments whose lease ended (a crash, a timeout), resolves refunds of unknown outcome,
and prints what it did; a progress line goes to stderr as it works. --limit N stops after N payments.
With --store, a payment Khalti confirmed is recorded as verified but not fulfilled (fulfilment is your
app's onVerified): run reconcile in your app, or pass --app, to fulfil it. Exit 1 if any stays unsettled.`,
  refund: `Usage: khalti-ledger refund KEY [--amount PAISA] [--yes] [--json]

Refunds the payment KEY through Khalti, exactly once: --amount in paisa (default: all that is left).
Asks for confirmation unless --yes is given. Exit 1 if Khalti did not refund (the reason is printed).`,
  'settle-refund': `Usage: khalti-ledger settle-refund KEY (--made | --not-made) [--yes] [--json]

A refund whose answer was lost stays pending until Khalti's state settles it (reconcile); when it cannot
(a second partial refund), check Khalti's merchant dashboard and say what it shows: --made if the refund
is there, --not-made if not. Posts nothing to Khalti. Asks for confirmation unless --yes is given.`,
};
