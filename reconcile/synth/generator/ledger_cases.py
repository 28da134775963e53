"""Failure modes of the ledger: it changed after the rule ran (paid, stale, closed,
pending), the rule read it otherwise than the contract (the loan's own tolerance, a payment
naming a later installment) or it is not what it should be (an unknown loan, malformed
loan, installment, payment or pause rows). See RATE_HELP for what each mode does."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from reconcile.synth.generator.builder import CaseBuilder
from reconcile.synth.generator.layout import Row
from reconcile.synth.generator.ledger import CENT, ZERO, Loan, Payment, money, overdue_view
from reconcile.synth.generator.loans import Itemising, settle
from reconcile.synth.generator.messages import collection_row
from reconcile.synth.generator.pause_cases import unusable_pause


def paid(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    r = values.dq_run
    loan, _ = case.overdue_loan(r)
    s = case.s
    message = collection_row(values, loan, r, s, claims="none" if rng.random() < 0.15 else "both",
                             template="TPL_COL_GEN" if rng.random() < 0.2 else None)
    owed, _ = overdue_view(loan, r, s.astimezone(values.tz).date())
    when = r - values.minutes(30, 3000)
    extra = Decimal(rng.choice((0, 0, 0, 1, 100)))
    if rng.random() < 0.3 and owed > 2:
        first = money(owed / 2)
        settle(values, loan, first, when - timedelta(days=1), posted=when - timedelta(hours=20))
        settle(values, loan, owed - first + extra, when, posted=when + values.minutes(1, 20))
    else:
        settle(values, loan, owed + extra, when, posted=when + values.minutes(1, 20))
    case.add(message)  # the rule missed the payment


def stale(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    r = values.dq_run
    loan, k = case.overdue_loan(r)
    s = case.s
    message = collection_row(values, loan, r, s)
    owed, _ = overdue_view(loan, r, s.astimezone(values.tz).date())
    window = int((values.as_of - r).total_seconds())
    posted = values.as_of if rng.random() < 0.1 else r + timedelta(seconds=rng.randint(1, window))
    variant = rng.random()
    if variant < 0.4:  # paid in full after the rule ran
        settle(values, loan, owed, posted - values.minutes(0, 90), posted=posted)
    elif variant < 0.65 and owed >= 2:  # paid in part after the rule ran
        settle(values, loan, money(owed * Decimal(rng.randint(10, 90)) / 100),
               posted - values.minutes(0, 90), posted=posted)
    elif variant < 0.75:  # a pending payment settled after the rule ran (posted_at is
        settle(values, loan, owed, r - values.minutes(60, 1500), posted=posted)  # its last change)
    elif variant < 0.85 and loan.pays:  # an earlier payment reversed after the rule ran
        pay = rng.choice([p for p in loan.pays if p.status == "settled"] or loan.pays)
        pay.status = "reversed"
        pay.posted_at = posted
    elif variant < 0.95:  # an installment reduced (减免) after the rule ran
        inst = loan.insts[k - 1]
        inst.amount = money(inst.amount * Decimal(rng.choice((50, 80, 90))) / 100)
        inst.updated_at = posted
    else:  # a failed auto-debit logged after the rule ran
        settle(values, loan, owed, posted - values.minutes(0, 30), "failed", posted=posted)
    case.add(message)


def closed(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    r = values.dq_run
    loan, _ = case.overdue_loan(r)
    s = case.s
    message = collection_row(values, loan, r, s)
    loan.status = "closed"
    if rng.random() < 0.5:  # settled in full earlier, the rule still had it open
        owed, _ = overdue_view(loan, r, s.astimezone(values.tz).date())
        rest = sum((i.amount for i in loan.insts), ZERO) - sum(
            (p.amount for p in loan.pays if p.status == "settled"), ZERO)
        settle(values, loan, max(owed, rest, CENT), r - values.minutes(100, 9000))
    case.add(message)


def pending(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    r = values.dq_run
    loan, _ = case.overdue_loan(r)
    s = case.s
    owed, _ = overdue_view(loan, r, s.astimezone(values.tz).date())
    when = r - values.minutes(100, 4000)
    if rng.random() < 0.25 and owed >= 2:  # two pending payments
        half = money(owed / 2)
        settle(values, loan, half, when - timedelta(hours=5), "pending")
        settle(values, loan, owed - half, when, "pending")
    else:
        settle(values, loan, owed + Decimal(rng.choice((0, 0, 0, 10))), when, "pending")
    case.add(collection_row(values, loan, r, s))


TOLERANCE_VARIANTS = ("below", "equal", "above", "pending", "later_installment")


def own_tolerance(case: CaseBuilder) -> None:
    """A loan with its own min_overdue_amount, which the rule ignores (it counts every
    cent): a small amount left overdue just below it, exactly at it or above it; a pending
    payment that would leave less than it; a few cents below it left on the oldest
    installment after a later one fell due (the days count from the later one)."""
    values, rng = case.values, case.rng
    r = values.dq_run
    variant = rng.choice(TOLERANCE_VARIANTS)
    if variant == "later_installment":
        loan, k = case.new_loan(rng.randint(35, 200), r, partial=0)
        left = leave_overdue(case, loan, r, loan.insts[k - 1].amount)
    else:
        loan, _ = case.overdue_loan(r, partial=0)
        left = leave_overdue(case, loan, r, overdue_view(loan, r, case.d_s)[0])
    loan.min_overdue = own_minimum(case, variant, left)
    if variant == "pending":  # would leave 0.01 or more, but less than the loan's minimum
        leave = Decimal(rng.randint(1, max(1, int((loan.min_overdue - CENT) * 100)))) / 100
        settle(values, loan, max(CENT, left - leave), r - values.minutes(100, 3000), "pending")
    case.add(collection_row(values, loan, r, case.s))


def leave_overdue(case: CaseBuilder, loan: Loan, r: datetime, owed: Decimal) -> Decimal:
    """A payment before r of all of `owed` but 0.50-50.00 (all but `owed` itself when that
    is less); what it leaves."""
    values = case.values
    left = min(owed, Decimal(case.rng.randint(50, 5000)) / 100)
    if owed - left >= CENT:
        settle(values, loan, owed - left, r - values.minutes(100, 3000))
    return left


def own_minimum(case: CaseBuilder, variant: str, left: Decimal) -> Decimal:
    """The loan's own min_overdue_amount: above `left`, what is overdue, for "below" and
    "later_installment" (mostly by a cent), equal to it for "equal", under it otherwise."""
    rng = case.rng
    if variant in ("below", "later_installment"):
        return left + CENT * rng.choice((1, 1, rng.randint(2, 500)))
    if variant == "equal":
        return max(CENT, left)
    return max(CENT, money(left * Decimal(rng.randint(10, 90)) / 100))


# A rule that books a payment to the installment it names (twice as likely), one that
# counts it oldest first, and a payment naming the installment it pays.
ALLOCATED_VARIANTS = ("by_installment", "by_installment", "oldest_first", "its_own")


def allocated(case: CaseBuilder) -> None:
    """A payment made for (naming) a later installment while an earlier one is unpaid. The
    contract counts it oldest first; a rule that books it to the installment it names
    claims the earlier one still owed. Beside: a rule that counts it oldest first too, and
    a payment naming the installment it pays."""
    values, rng = case.values, case.rng
    r = values.dq_run
    components = rng.random() < 0.5
    loan, k = case.overdue_loan(r, partial=0.1, itemising=Itemising(
        components, allocated=components, penalty=rng.random() < 0.25, named=True))
    variant = rng.choice(ALLOCATED_VARIANTS)
    later = loan.insts[k:] if variant != "its_own" else []
    target = rng.choice(later) if later else loan.insts[k - 1]
    by_installment = variant == "by_installment"
    if by_installment:  # all or half of the later installment; the rule misses it
        amount = money(target.amount * rng.choice((100, 100, 50)) / 100)
    else:  # part of what is overdue, which stays overdue; the rule counts it
        owed, _ = overdue_view(loan, r, case.d_s)
        amount = money(min(target.amount, owed) * rng.randint(20, 60) / 100)
    message = collection_row(values, loan, r, case.s) if by_installment else None
    if amount >= CENT:
        settle(values, loan, amount, r - values.minutes(200, 5000), installment=target.no)
    case.add(message or collection_row(values, loan, r, case.s))


def unknown_loan(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    r = values.dq_run
    loan, _ = case.overdue_loan(r)
    message = collection_row(values, loan, r, case.s)
    case.loans.remove(loan)
    if rng.random() < 0.3:  # the payments feed knows the loan, the loans extract not
        for pay in loan.pays[-3:]:
            if rng.random() < 0.2:
                pay.posted_at = r + values.minutes(1, 60)
            case.extra["payments"].append(case.payment_row(loan, pay))
    case.add(message)


def ledger_invalid(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    r = values.dq_run
    loan, _ = case.overdue_loan(r, partial=0.5)
    case.add(collection_row(values, loan, r, case.s))
    loan_id = loan.loan_id
    variant = rng.randrange(17)
    if not loan.pays and variant >= 4:
        settle(values, loan, loan.insts[0].amount, r - values.minutes(600, 6000))
    pay_index = rng.randrange(len(loan.pays)) if loan.pays else 0
    inst_index = rng.randrange(len(loan.insts))

    def edit(table: str, index: int, column: str, value: str | None) -> None:
        edit_cell(case, table, loan_id, index, column, value)

    if variant == 0:
        edit("installments", inst_index, "amount_due",
             f"-{loan.insts[inst_index].amount:.2f}")
    elif variant == 1:
        edit("installments", inst_index, "due_date",
             f"{loan.insts[inst_index].due:%Y/%m/%d}")
    elif variant == 2:
        edit("installments", inst_index, "amount_due", None)
    elif variant == 3:  # the same installment_no twice
        edit("installments", inst_index, "installment_no",
             str(loan.insts[inst_index - 1 if inst_index else 1].no))
    elif variant == 4:
        edit("payments", pay_index, "amount", rng.choice(("0.00", "-120.00")))
    elif variant == 5:
        edit("payments", pay_index, "status", rng.choice(("SUCCESS", "refunded", "ok")))
    elif variant == 6:
        edit("payments", pay_index, "posted_at", None)
    elif variant == 7:
        posted = loan.pays[pay_index].posted_at
        edit("payments", pay_index, "paid_at", rng.choice((
            f"{posted:%Y-%m-%d}T24:00:00", f"{posted:%Y/%m/%d %H:%M:%S}", f"{posted:%Y-%m-%d}")))
    elif variant == 8:  # a payment_id used twice
        settle(values, loan, loan.insts[0].amount, r - values.minutes(600, 6000))
        twin = loan.pays[pay_index].payment_id
        loan.pays[-1].payment_id = twin
    elif variant == 9:
        edit("loans", 0, "grace_days", rng.choice(("-3", "3.5", "三")))
    elif variant == 10:
        edit("loans", 0, "status", rng.choice(("ACTIVE", "overdue", None)))
    elif variant == 11:  # the loans row twice
        case.edits.append(lambda tables: _repeat_loan_row(tables["loans"], loan_id))
    else:
        malformed_optional_input(case, loan, variant)
    if rng.random() < 0.2:  # and a payment that names no loan (holds nothing)
        pay = Payment(values.payment_id(r), Decimal("100.00"), "settled",
                      r - values.minutes(60, 600), None)
        row = case.payment_row(loan, pay)
        row["loan_id"] = None
        case.extra["payments"].append(row)


def malformed_optional_input(case: CaseBuilder, loan: Loan, variant: int) -> None:
    """An unusable row of an optional input (variant 12-16): a collection pause,
    installment or payment components that do not add up to its amount, a payment's
    installment_no that is no integer, a loan's min_overdue_amount under 0.01."""
    rng = case.rng
    if variant == 12:
        unusable_pause(case, loan)
    elif variant in (13, 14):  # one cent or more off
        loan.itemised = True
        loan.allocated = loan.allocated or variant == 14
        table, column = ("installments", "penalty_due") if variant == 13 \
            else ("payments", "penalty_paid")
        index, delta = rng.randrange(len(loan.insts)), rng.choice((CENT, Decimal(1), Decimal(10)))
        case.edits.append(lambda tables: _add_to_component(tables[table], loan.loan_id, index,
                                                           column, delta))
    elif variant == 15:
        edit_cell(case, "payments", loan.loan_id, rng.randrange(len(loan.pays)),
                  "installment_no", rng.choice(("第2期", "2.0", "#3", "two")))
    else:
        edit_cell(case, "loans", loan.loan_id, 0, "min_overdue_amount",
                  rng.choice(("0.00", "0", "-5.00")))


def edit_cell(case: CaseBuilder, table: str, loan_id: str, index: int, column: str,
              value: str | None) -> None:
    """Once rendered, the loan's index-th row of table (counting round) has value in column."""
    case.edits.append(lambda tables: _edit(tables[table], loan_id, index, column, value))


def _edit(rows: list[Row], loan_id: str, index: int, column: str,
          value: str | None) -> None:
    mine = [row for row in rows if row["loan_id"] == loan_id]
    mine[index % len(mine)][column] = value


def _add_to_component(rows: list[Row], loan_id: str, index: int, column: str,
                      delta: Decimal) -> None:
    """delta added to a component cell of one of the loan's rows that carry components."""
    mine = [row for row in rows if row["loan_id"] == loan_id and column in row]
    row = mine[index % len(mine)]
    row[column] = f"{Decimal(row[column] or 0) + delta:.2f}"


def _repeat_loan_row(rows: list[Row], loan_id: str) -> None:
    row = next(row for row in rows if row["loan_id"] == loan_id)
    rows.append(dict(row))
