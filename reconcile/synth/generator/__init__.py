"""`generate()`: a synthetic, labelled nightly drop for testing and benchmarking reconcile.

A drop is built case by case from one random stream of the seed: a case is one borrower
with one or two loans, their installments and payments, and the messages the lender's rules
planned for them. Most cases are clean (the rule's claim, template and timing are right,
so the message should be sent); the rest carry one failure mode, drawn at the rates of
`Rates`. What the ledger looks like:

- loans of 3-24 monthly installments, due on days 1-28, with cents; grace_days on a
  quarter of them; installments' updated_at at origination (sometimes empty); half of
  them itemised (principal_due ... penalty_due, and most of those their settled payments'
  principal_paid ... penalty_paid), a penalty on the overdue installments of a quarter,
  payments naming their installment on some;
- payments near each due date: single, split in two, prepaying two installments at once, a
  failed auto-debit before the real one, a reversed payment paid again; partial payments
  on the first unpaid installment; small pending payments; payments posted after T;
- the rule ran a few hours before T (one run per rule) and planned sends for the next day.

The claimed amount and days of a message are what the rule saw: the ledger at the rule's
run time, through the rule's own (sometimes wrong) reading. Failure modes change either the
ledger after the rule ran or the rule's reading, and ledger / message rows are sometimes
malformed. The expected verdict and flags of each message are not known here: `labels.csv`
is computed by `reconcile.synth.reference` (the pure-Python oracle of CONTRACT §2-4) on each
chunk's rows, exactly as written to disk. The same seed and options give byte-identical
files, whatever the chunk size.

    drop           generate(): options, chunks, staging folder, drop.json (GenerateResult);
                   the options' choices and defaults are in reconcile.synth.options
    layout         the drop's files, tables and label columns
    rates          the failure modes and their rates, RATE_HELP, --rate parsing
    scenarios      which builder makes each scenario; the drop's cases one after another
    builder        one case under construction, rendered to text rows
    clean_cases, ledger_cases, pause_cases, rule_cases, contact_cases, content_cases
                   the scenarios: clean cases, then the failure modes by what goes wrong
    messages       the messages a rule plans, and their claims
    loans          a loan's schedule, payment history and what its ledger itemises
    ledger         the ledger model and what a rule reading it computes (with components)
    values         the random streams; ids, people, timestamps and amounts as text
    check_digits   the check characters of the ID and card numbers the privacy cases write
    lender, wording   the lender's templates, rules and stages; the words of its messages
    tables         CSV and Parquet writing, chunk by chunk
    labels         the oracle's labels, in worker processes; reconcile.toml (the one module
                   that calls the oracle, through its public labelling API only)
"""

from reconcile.synth.generator.drop import GenerateResult, generate
from reconcile.synth.generator.labels import label_chunk, labels_config
from reconcile.synth.generator.layout import (
    CONFIG_FILE,
    DROP_FILE,
    LABEL_COLUMNS,
    LABELS_FILE,
    TABLE_NAMES,
    TIMEZONE,
)
from reconcile.synth.generator.rates import RATE_HELP, RATE_NAMES, Rates, check_rates, parse_rates
from reconcile.synth.options import (
    DEFAULT_AS_OF,
    DEFAULT_CHUNK_LOANS,
    FILE_FORMATS,
    TIMESTAMP_STYLES,
)

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_AS_OF",
    "DEFAULT_CHUNK_LOANS",
    "DROP_FILE",
    "FILE_FORMATS",
    "LABELS_FILE",
    "LABEL_COLUMNS",
    "RATE_HELP",
    "RATE_NAMES",
    "TABLE_NAMES",
    "TIMESTAMP_STYLES",
    "TIMEZONE",
    "GenerateResult",
    "Rates",
    "check_rates",
    "generate",
    "label_chunk",
    "labels_config",
    "parse_rates",
]
